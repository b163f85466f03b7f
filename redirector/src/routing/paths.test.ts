import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyPath,
  classifyPathByRules,
  isValidDigest,
  isValidName,
  isValidTag,
  normalizeQuery,
  percentDecode,
  splitTarget,
} from './paths.js';

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
  it.each(['pause', 'e2e-test-images/busybox', 'a.b', 'a_b', 'a__b', 'a---b', 'a/b/c', '0', 'kube-apiserver-amd64'])(
    '%s is valid',
    (n) => expect(isValidName(n)).toBe(true),
  );
  it.each(['', 'Pause', 'a/', '/a', 'a//b', '.a', 'a.', 'a..b', 'a___b', '-a', 'a-', 'a b', 'a/./b', 'a/../b', 'a:b'])(
    '%s is invalid',
    (n) => expect(isValidName(n)).toBe(false),
  );
  it('stays linear on long near-misses', () => {
    expect(isValidName('a-'.repeat(20_000) + '!')).toBe(false);
  });
});

const VALID_DIGESTS = [
  `sha256:${HEX}`,
  `sha512:${'0'.repeat(128)}`,
  `blake3:${HEX}`,
  'foo:bar',
  'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
  'a.b_c-d:x==',
  // unregistered algorithms take the generic encoded grammar, even when they start like a registered one
  `md5:${'0'.repeat(32)}`,
  'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564=',
  'sha2560:x',
  'sha.256:X',
  // an algorithm named after an Object.prototype property is an ordinary unregistered one
  'constructor:abc',
];
const INVALID_DIGESTS = [
  `sha256:${HEX.toUpperCase()}`,
  `sha256:${HEX.slice(1)}`,
  `sha256:${HEX}0`,
  'sha256:totallywrong',
  'sha256:baddigeststring',
  `sha512:${HEX}`,
  `sha512:${'0'.repeat(127)}`,
  `sha512:${'A'.repeat(128)}`,
  `blake3:${HEX}0`,
  `blake3:${HEX.toUpperCase()}`,
  'sha256',
  ':abc',
  'SHA256:abc',
  'a:',
  'a:b/c',
  'a+:b',
  '+a:b',
  'a:b:c',
  'a:b.c',
  'a:b c',
];

describe('digest grammar (image-spec)', () => {
  it.each(VALID_DIGESTS)('%s is valid', (d) => expect(isValidDigest(d)).toBe(true));
  it.each(INVALID_DIGESTS)('%s is invalid', (d) => expect(isValidDigest(d)).toBe(false));
});

describe('tag grammar (distribution-spec)', () => {
  const t128 = '_' + 'a.-'.repeat(42) + 'Z';
  it.each([
    'latest',
    '3.9',
    'v1.29.0-rc.1',
    '_x',
    'A',
    '0',
    'a_b-c.D',
    `sha256-${HEX}`,
    `sha256-${HEX}.sig`,
    `sha256-${HEX}.att`,
    `sha512-${HEX}`,
    t128,
  ])('%s is valid', (t) => expect(isValidTag(t)).toBe(true));
  it.each(['', '.INVALID_MANIFEST_NAME', '-x', '.x', `${t128}x`, 'a:b', 'a b', 'a/b', 'a+b', 'a~b', 'é'])(
    '%s is invalid',
    (t) => expect(isValidTag(t)).toBe(false),
  );
  it('allows exactly 128 characters', () => {
    expect(t128).toHaveLength(128);
  });
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
    [`/v2/X/manifests/sha256-${HEX}.sig`, 'bad-reference'],
    [`/v2/x/manifests/sha256-${HEX.toUpperCase()}.sig`, 'v2'],
    [`/v2/x/manifests/sha256-${HEX}.sbom`, 'v2'],
    [`/v2/x/manifests/sha256-${HEX}`, 'v2'],
    [`/v2/x/manifests/sha256:${HEX}`, 'v2'],
    ['/v2/x/manifests/sha256:totallywrong', 'bad-reference'],
    ['/v2/x/tags/list', 'v2'],
    ['/v2/x/tags/list/', 'v2'],
    ['/v2/x/tags/lists', 'v2'],
    ['/v2/x/tags/List', 'v2'],
    ['/v2/X/tags/list', 'bad-reference'],
    [`/v2/x/referrers/sha256:${HEX}`, 'v2'],
    ['/v2/x/referrers/latest', 'bad-reference'],
    ['/v2/x/Manifests/.bad', 'v2'],
    ['/v2/x/manifest/.bad', 'v2'],
    ['/v2/x/blobs/uploads/.bad', 'v2'],
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
    expect(classifyPath(`/v2/a/b/blobs/sha256:${HEX}`)).toEqual({
      kind: 'blob',
      name: 'a/b',
      digest: `sha256:${HEX}`,
      rest: `/a/b/blobs/sha256:${HEX}`,
    });
  });

  it('names the grammar that failed', () => {
    expect(classifyPath(`/v2/A/blobs/sha256:${HEX}`)).toMatchObject({ kind: 'bad-blob', code: 'NAME_INVALID' });
    expect(classifyPath('/v2/a/blobs/sha256:zz')).toMatchObject({ kind: 'bad-blob', code: 'DIGEST_INVALID' });
  });

  it('does not trip over Object.prototype names (an unregistered algorithm)', () => {
    expect(classifyPath('/v2/a/blobs/constructor:abc')).toMatchObject({ kind: 'blob', digest: 'constructor:abc' });
    expect(classifyPath('/v2/a/manifests/constructor:abc').kind).toBe('v2');
  });
});

describe('classifyPath: manifest, tag-list and referrers names and references (rule 5)', () => {
  // a raw `/` or space would make another path, or a bad one (rule 4)
  const pathSafe = (d: string) => !/[/ ]/.test(d);
  const manifest = (ref: string, name = 'e2e-test-images/busybox') => classifyPath(`/v2/${name}/manifests/${ref}`);

  it.each(VALID_DIGESTS)('manifest by digest %s is forwarded', (d) =>
    expect(manifest(d)).toEqual({ kind: 'v2', rest: `/e2e-test-images/busybox/manifests/${d}` }),
  );
  // without a colon a reference is a tag (`sha256` is a fine tag)
  it.each(INVALID_DIGESTS.filter((d) => pathSafe(d) && d.includes(':')))(
    'manifest by digest %s is DIGEST_INVALID',
    (d) =>
      expect(manifest(d)).toEqual({
        kind: 'bad-reference',
        code: 'DIGEST_INVALID',
        detail: `invalid digest: ${JSON.stringify(d)}`,
      }),
  );
  it.each(VALID_DIGESTS)('referrers of %s are forwarded', (d) =>
    expect(classifyPath(`/v2/a/referrers/${d}`).kind).toBe('v2'),
  );
  it.each([...INVALID_DIGESTS.filter(pathSafe), 'latest', ''])('referrers of %j are DIGEST_INVALID', (d) =>
    expect(classifyPath(`/v2/a/referrers/${d}`)).toMatchObject({ kind: 'bad-reference', code: 'DIGEST_INVALID' }),
  );

  it.each(['latest', '3.9', '_x', 'sha256', `sha256-${HEX}`, `sha512-${HEX}`, '_' + 'a'.repeat(127)])(
    'tag %s is forwarded',
    (t) => expect(manifest(t).kind).toBe('v2'),
  );
  it.each(['.INVALID_MANIFEST_NAME', '-x', 'a+b', '', 'a'.repeat(129), 'a%20b', '%C3%A9'])(
    'tag %j is MANIFEST_UNKNOWN (404: no manifest has it)',
    (t) =>
      expect(manifest(t)).toMatchObject({
        kind: 'bad-reference',
        code: 'MANIFEST_UNKNOWN',
        detail: expect.stringContaining('not a valid tag'),
      }),
  );

  it('keeps cosign tags valid and routes them to the signature upstream', () => {
    expect(manifest(`sha256-${HEX}.sig`)).toEqual({
      kind: 'signature',
      rest: `/e2e-test-images/busybox/manifests/sha256-${HEX}.sig`,
    });
    expect(manifest(`sha256-${HEX}.att`).kind).toBe('signature');
    expect(manifest(`sha256-${HEX}.sbom`).kind).toBe('v2');
    expect(manifest(`xsha256-${HEX}.sig`).kind).toBe('v2');
    expect(manifest(`sha256-${HEX.slice(1)}x.sig`).kind).toBe('v2');
    // the sticky regex is re-anchored on every call
    expect(manifest(`sha256-${HEX}.att`, 'a/sha256-x').kind).toBe('signature');
  });

  it.each(['A', 'a/', 'a//b', '.a', 'a..b', 'a___b', '-a', 'a-', '', '/a', 'a/B/c'])(
    'name %j is NAME_INVALID everywhere, before the reference',
    (n) => {
      for (const rest of [
        'manifests/latest',
        'manifests/.bad',
        `manifests/sha256-${HEX}.sig`,
        'tags/list',
        `referrers/sha256:${HEX}`,
        'referrers/bad',
      ]) {
        expect(classifyPath(`/v2/${n}/${rest}`)).toEqual({
          kind: 'bad-reference',
          code: 'NAME_INVALID',
          detail: `invalid repository name: ${JSON.stringify(n)}`,
        });
      }
    },
  );

  it('parses from the right: names may contain the endpoint words', () => {
    expect(classifyPath('/v2/a/manifests/b/manifests/latest').kind).toBe('v2');
    expect(classifyPath('/v2/manifests/tags/list').kind).toBe('v2');
    expect(classifyPath('/v2/tags/list/tags/list').kind).toBe('v2');
    expect(classifyPath(`/v2/referrers/blobs/referrers/sha256:${HEX}`).kind).toBe('v2');
    expect(classifyPath('/v2/a/manifests/b/manifests/B')).toMatchObject({ kind: 'v2' });
    expect(classifyPath('/v2/a/Manifests/b/manifests/x')).toMatchObject({
      kind: 'bad-reference',
      code: 'NAME_INVALID',
      detail: 'invalid repository name: "a/Manifests/b"',
    });
    expect(classifyPath('/v2/manifests/latest')).toMatchObject({ kind: 'bad-reference', code: 'NAME_INVALID' });
  });

  it('judges the decoded path and forwards the raw one', () => {
    expect(classifyPath('/v2/pa%75se/manifests/3%2E9')).toEqual({ kind: 'v2', rest: '/pa%75se/manifests/3%2E9' });
    expect(classifyPath('/v2/pause/manifests/sha256%3Atotallywrong')).toMatchObject({
      kind: 'bad-reference',
      code: 'DIGEST_INVALID',
    });
    expect(classifyPath('/v2/P%61use/tags/list')).toMatchObject({
      kind: 'bad-reference',
      code: 'NAME_INVALID',
      detail: 'invalid repository name: "Pause"',
    });
  });

  // A ReDoS guard, not a speed measurement: a backtracking grammar would not finish these within the test timeout.
  it('answers long near-misses (no catastrophic backtracking)', { timeout: 20_000 }, () => {
    for (const path of [
      `/v2/${'a-'.repeat(20_000)}/manifests/!`,
      `/v2/${'a/'.repeat(20_000)}manifests/x:`,
      `/v2/${'manifests/'.repeat(5_000)}manifests/.x`,
      `/v2/${'a.b_c__d-e/'.repeat(5_000)}referrers/sha256:x`,
      `/v2/${'a/'.repeat(20_000)}tags/list`,
      `/v2/x/manifests/${'a1'.repeat(20_000)}:!`,
      `/v2/x/referrers/${'a.'.repeat(20_000)}:x`,
    ]) {
      expect(classifyPath(path).kind).toMatch(/^(?:v2|bad-reference)$/);
    }
  });
});

describe('classifyPath: the sha256 blob shortcut agrees with the rules', () => {
  const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
  const component = fc.stringMatching(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/);
  const name = fc.oneof(
    fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('/')),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('', '.', '..', 'a/./b', 'a/../b', 'A', 'blobs', 'a/blobs', '%2e%2e', 'a%2fb', 'a//b'),
  );
  const digest = fc.oneof(
    hex.map((h) => `sha256:${h}`),
    hex.map((h) => `sha256:${h.toUpperCase()}`),
    hex.map((h) => `sha256:${h}0`),
    hex.map((h) => `sha512:${h}${h}`),
    fc.string({ maxLength: 20 }),
  );
  const tail = fc.constantFrom('', '/', '/x', '%20', '?');

  it('answers exactly what the rules answer, for blob-shaped and nearby paths', () => {
    fc.assert(
      fc.property(name, digest, tail, fc.constantFrom('/v2/', '/v2', '/V2/', '/v2//'), (n, d, t, v2) => {
        const path = `${v2}${n}/blobs/${d}${t}`;
        expect(classifyPath(path)).toEqual(classifyPathByRules(path));
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the shortcut for the common request', () => {
    const d = `sha256:${'ab'.repeat(32)}`;
    expect(classifyPath(`/v2/e2e-test-images/busybox/blobs/${d}`)).toEqual({
      kind: 'blob',
      name: 'e2e-test-images/busybox',
      digest: d,
      rest: `/e2e-test-images/busybox/blobs/${d}`,
    });
    expect(classifyPath(`/v2/a/blobs/blobs/${d}`)).toEqual({
      kind: 'blob',
      name: 'a/blobs',
      digest: d,
      rest: `/a/blobs/blobs/${d}`,
    });
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
