import { describe, expect, it } from 'vitest';
import { goHeaderValue, goHexEscapeNonAscii, goPathClean, goPathJoin } from './go-path.js';

// The vectors of Go's path.Clean test table (src/path/path_test.go, cleantests).
describe('goPathClean (Go path.Clean)', () => {
  it.each([
    ['', '.'],
    ['abc', 'abc'],
    ['abc/def', 'abc/def'],
    ['a/b/c', 'a/b/c'],
    ['.', '.'],
    ['..', '..'],
    ['../..', '../..'],
    ['../../abc', '../../abc'],
    ['/abc', '/abc'],
    ['/', '/'],
    ['abc/', 'abc'],
    ['abc/def/', 'abc/def'],
    ['/abc/', '/abc'],
    ['abc//def//ghi', 'abc/def/ghi'],
    ['//abc', '/abc'],
    ['abc//', 'abc'],
    ['abc/./def', 'abc/def'],
    ['/./abc/def', '/abc/def'],
    ['abc/.', 'abc'],
    ['abc/def/ghi/../jkl', 'abc/def/jkl'],
    ['abc/def/../ghi/../jkl', 'abc/jkl'],
    ['abc/def/..', 'abc'],
    ['abc/def/../..', '.'],
    ['/abc/def/../..', '/'],
    ['abc/def/../../..', '..'],
    ['/abc/def/../../..', '/'],
    ['abc/def/../../../ghi/jkl/../../../mno', '../../mno'],
    ['abc/./../def', 'def'],
    ['abc//./../def', 'def'],
    ['abc/../../././../def', '../../def'],
  ])('%j → %j', (p, want) => expect(goPathClean(p)).toBe(want));
});

describe('goPathJoin (Go path.Join)', () => {
  it.each([
    [['a', 'b', 'c'], 'a/b/c'],
    [['a', ''], 'a'],
    [['', ''], ''],
    [[], ''],
    [
      ['/v2/', 'k8s-artifacts-prod/images', '/pause/manifests/latest'],
      '/v2/k8s-artifacts-prod/images/pause/manifests/latest',
    ],
    [['/v2/', '', '/pause/manifests/latest'], '/v2/pause/manifests/latest'],
    [['/v2/', 'k8s-artifacts-prod/images', '/../../../x'], '/x'],
    [['/v2/', 'p', 'oo'], '/v2/p/oo'],
  ])('%j → %j', (parts, want) => expect(goPathJoin(...parts)).toBe(want));
});

describe('goHexEscapeNonAscii (net/http)', () => {
  it('leaves ASCII alone and escapes bytes >= 0x80 in lowercase hex', () => {
    expect(goHexEscapeNonAscii('https://h/a b')).toBe('https://h/a b');
    expect(goHexEscapeNonAscii('https://h/\u00e9')).toBe('https://h/%e9');
    expect(goHexEscapeNonAscii('https://h/\u20ac')).toBe('https://h/%e2%82%ac');
  });
});

describe('goHeaderValue', () => {
  it('turns CR and LF into spaces and percent-encodes other control characters', () => {
    expect(goHeaderValue('https://h/a')).toBe('https://h/a');
    expect(goHeaderValue('https://h/a\tb')).toBe('https://h/a\tb');
    expect(goHeaderValue('https://h/a\r\nb')).toBe('https://h/a  b');
    expect(goHeaderValue('https://h/a\u0000b\u007f')).toBe('https://h/a%00b%7f');
  });
});
