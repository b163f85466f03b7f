import { describe, expect, it } from 'vitest';
import { classifyPath, isValidDigest, isValidName, normalizeQuery, percentDecode, splitTarget } from './paths.js';

const HEX = 'a'.repeat(64);

describe('splitTarget', () => {
  it.each([
    ['/v2/x?n=1', { path: '/v2/x', query: 'n=1' }],
    ['/v2/x', { path: '/v2/x', query: '' }],
    ['/v2/x?', { path: '/v2/x', query: '' }],
    ['/v2/x?a?b', { path: '/v2/x', query: 'a?b' }],
    ['http://registry.k8s.io/v2/x?n=1', { path: '/v2/x', query: 'n=1' }],
    ['HTTPS://h:443', { path: '/', query: '' }],
    ['http://h?q', { path: '/', query: 'q' }],
    ['*', { path: '*', query: '' }],
    ['v2/x', { path: 'v2/x', query: '' }],
  ])('%s', (target, want) => expect(splitTarget(target)).toEqual(want));
});

describe('percentDecode', () => {
  it.each([
    ['/v2/x', '/v2/x'],
    ['/v2/%2e%2E', '/v2/..'],
    ['%41%62%7a', 'Abz'],
    ['%C3%A9', '\u00c3\u00a9'],
    ['a%2fb', 'a/b'],
  ])('%s', (raw, want) => expect(percentDecode(raw)).toBe(want));
  it.each(['%', '%2', '%zz', '/v2/%g0', 'a%2'])('%s is malformed', (raw) => expect(percentDecode(raw)).toBeNull());
});

describe('name grammar (distribution-spec)', () => {
  it.each(['pause', 'e2e-test-images/busybox', 'a.b', 'a_b', 'a__b', 'a---b', 'a/b/c', '0', 'kube-apiserver-amd64'])('%s is valid', (n) =>
    expect(isValidName(n)).toBe(true),
  );
  it.each(['', 'Pause', 'a/', '/a', 'a//b', '.a', 'a.', 'a..b', 'a___b', '-a', 'a-', 'a b', 'a/./b', 'a/../b', 'a:b'])('%s is invalid', (n) =>
    expect(isValidName(n)).toBe(false),
  );
  it('stays linear on long near-misses', () => {
    expect(isValidName('a-'.repeat(20_000) + '!')).toBe(false);
  });
});

describe('digest grammar (image-spec)', () => {
  it.each([`sha256:${HEX}`, `sha512:${'0'.repeat(128)}`, `blake3:${HEX}`, 'foo:bar', 'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8', 'a.b_c-d:x=='])('%s is valid', (d) =>
    expect(isValidDigest(d)).toBe(true),
  );
  it.each([`sha256:${HEX.toUpperCase()}`, `sha256:${HEX.slice(1)}`, `sha512:${HEX}`, `blake3:${HEX}0`, 'sha256', ':abc', 'SHA256:abc', 'a:', 'a:b/c', 'a+:b', 'a:b:c'])(
    '%s is invalid',
    (d) => expect(isValidDigest(d)).toBe(false),
  );
});

describe('classifyPath', () => {
  it.each([
    ['/', 'info'],
    ['/privacy', 'privacy'],
    ['/privacy/', 'privacy'],
    ['/privacyX', 'not-found'],
    ['/v2foo', 'not-found'],
    ['/v3/', 'not-found'],
    ['', 'not-found'],
    ['*', 'not-found'],
    ['/%zz', 'not-found'],
    ['/v2', 'ping'],
    ['/v2/', 'ping'],
    ['/%76%32/', 'ping'],
    ['/v2/_catalog', 'catalog'],
    ['/v2/_catalog/', 'catalog'],
    ['/v2/x/manifests/latest', 'v2'],
    ['/v2//x//manifests/latest/', 'v2'],
    ['/v2/x/blobs/uploads/', 'v2'],
    [`/v2/x/manifests/sha256-${HEX}.sig`, 'signature'],
    [`/v2/a/b/manifests/sha256-${HEX}.att`, 'signature'],
    [`/v2/X/manifests/sha256-${HEX}.sig`, 'v2'],
    [`/v2/x/blobs/sha256:${HEX}`, 'blob'],
    [`/v2/x/blobs/sha256%3A${HEX}`, 'blob'],
    [`/v2/x/blobs/sha256:${HEX.toUpperCase()}`, 'bad-blob'],
    [`/v2//blobs/sha256:${HEX}`, 'bad-blob'],
  ])('%s → %s', (path, kind) => expect(classifyPath(path).kind).toBe(kind));

  it.each([
    ['/v2/%zz', 'malformed percent-encoding'],
    ['/v2/a b', 'pchar'],
    ['/v2/a"b', 'pchar'],
    ['/v2/a#b', 'pchar'],
    ['/v2/a\\b', 'pchar'],
    ['/v2/a%5Cb', 'encoded slash or backslash'],
    ['/v2/a%2fb', 'encoded slash or backslash'],
    ['/v2/..', 'dot segment'],
    ['/v2/./x', 'dot segment'],
    ['/v2/x/%2E%2e/y', 'dot segment'],
    ['/v2/x/.%2e', 'dot segment'],
    ['/v2/x%00', 'control character'],
    ['/v2/x%0d%0aSet-Cookie:a', 'control character'],
  ])('%s is a bad path (%s)', (path, why) => {
    const r = classifyPath(path);
    expect(r.kind).toBe('bad-path');
    expect(r.kind === 'bad-path' && r.detail).toContain(why);
  });

  it('keeps the raw rest of the path after /v2', () => {
    expect(classifyPath('/v2/pa%75se/manifests/latest')).toEqual({ kind: 'v2', rest: '/pa%75se/manifests/latest' });
    expect(classifyPath(`/v2/a/b/blobs/sha256:${HEX}`)).toEqual({ kind: 'blob', name: 'a/b', digest: `sha256:${HEX}`, rest: `/a/b/blobs/sha256:${HEX}` });
  });

  it('names the grammar that failed', () => {
    expect(classifyPath(`/v2/A/blobs/sha256:${HEX}`)).toMatchObject({ kind: 'bad-blob', code: 'NAME_INVALID' });
    expect(classifyPath('/v2/a/blobs/sha256:zz')).toMatchObject({ kind: 'bad-blob', code: 'DIGEST_INVALID' });
  });
});

describe('normalizeQuery', () => {
  it.each([
    ['n=10&last=3.1', 'n=10&last=3.1'],
    ['artifactType=application%2Fvnd.oci', 'artifactType=application%2Fvnd.oci'],
    ['a=b/c?d:e@f', 'a=b/c?d:e@f'],
    ['', ''],
    ['a="b"', 'a=%22b%22'],
    ['a=b c', 'a=b%20c'],
    ['a=%zz', 'a=%25zz'],
    ['a=%4', 'a=%254'],
    ['a=#frag', 'a=%23frag'],
    ['a=\r\nSet-Cookie: x', 'a=%0D%0ASet-Cookie:%20x'],
    ['a=\u00e9', 'a=%E9'],
    ['a=\u20ac', 'a=%E2%82%AC'],
    ['a=\u{1f600}', 'a=%F0%9F%98%80'],
    ['a=\ud800', 'a=%EF%BF%BD'],
    ['a=%41<', 'a=%41%3C'],
  ])('%j → %j', (q, want) => expect(normalizeQuery(q)).toBe(want));
});
