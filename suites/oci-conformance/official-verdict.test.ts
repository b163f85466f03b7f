// Pure parts of the oci-conformance suite: the verdict per test, the read-only inputs, where the program speaks from.
import { describe, expect, it } from 'vitest';
import type { ProgramTestCase, TargetDescription, Vantage } from '../../harness/src/index.js';
import type { SeededContent, SeededImage, SeededReferrer } from '../conformance/seeded-content.js';
import { inputKey, officialVerdict, skipReason } from './official-verdict.js';
import { programVantage } from './oci-conformance.suite.js';
import { checkNameOf, relativeName } from './program-tests.js';
import { chooseRepository, readOnlyInputs } from './read-only-inputs.js';

const tc = (status: ProgramTestCase['status'], errors = '', output = ''): ProgramTestCase => ({
  name: 'OCI Conformance Test/x',
  status,
  timeSec: 0,
  errors,
  output,
});

describe('officialVerdict', () => {
  it('passes when every case passed, also beside cases the program skipped as unsupported', () => {
    expect(officialVerdict({ redirector: [tc('passed'), tc('passed')], upstream: null })).toEqual({
      status: 'pass',
      summary: '2 passed of 2',
    });
    expect(
      officialVerdict({ redirector: [tc('passed'), tc('skipped', 'no filter header')], upstream: null }).status,
    ).toBe('pass');
  });

  it("fails with the program's messages when a case failed and the upstream asked directly passes it", () => {
    const v = officialVerdict({
      redirector: [tc('passed'), tc('failure', 'unexpected status code 404')],
      upstream: [tc('passed'), tc('passed')],
    });
    expect(v.status).toBe('fail');
    expect(v.status === 'fail' && v.message).toMatch(
      /unexpected status code 404[\s\S]*the upstream asked directly: 2 passed of 2/,
    );
    expect(officialVerdict({ redirector: [tc('failure', 'x')], upstream: null }).status).toBe('fail');
    expect(officialVerdict({ redirector: [tc('failure', 'x')], upstream: [] })).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/no such test/),
    });
  });

  it('blames the upstream (not applicable, both answers) when the upstream fails the same input on its own', () => {
    const v = officialVerdict({ redirector: [tc('failure', 'via redirector')], upstream: [tc('failure', 'direct')] });
    expect(v.status).toBe('not-applicable');
    expect(v.status === 'not-applicable' && v.reason).toMatch(
      /upstream asked directly fails[\s\S]*via redirector[\s\S]*direct/,
    );
  });

  it("is an error for the program's own error, or for a group that wrote no results", () => {
    expect(
      officialVerdict({ redirector: [tc('passed'), tc('error', 'internal')], upstream: [tc('error')] }).status,
    ).toBe('error');
    expect(officialVerdict({ redirector: [], upstream: null, groupProblem: 'it wrote no junit.xml' })).toEqual({
      status: 'error',
      message: 'it wrote no junit.xml',
    });
  });

  it("is not applicable with the program's reason when every case was skipped, the suite's when none ran", () => {
    const skipped = tc('skipped', '', 'x: skipping test:\n  api Blob delete is disabled in the configuration\n');
    expect(skipReason(skipped)).toBe('api Blob delete is disabled in the configuration');
    expect(officialVerdict({ redirector: [skipped, skipped], upstream: null })).toEqual({
      status: 'not-applicable',
      reason: 'skipped by the official program: api Blob delete is disabled in the configuration',
    });
    expect(officialVerdict({ redirector: [], upstream: null, notRun: 'no referrers seeded' })).toEqual({
      status: 'not-applicable',
      reason: 'no referrers seeded',
    });
  });
});

describe('blame per input', () => {
  const dump = (path: string) => `====\n~~~ REQUEST ~~~\nMethod: GET\nURL: http://127.0.0.1:1${path}\nHeaders:\n`;
  const at = (status: ProgramTestCase['status'], path: string): ProgramTestCase =>
    tc(status, `${status} at ${path}`, dump(path));

  it('reads the object of the first request a case made', () => {
    expect(inputKey(at('passed', '/v2/pre/fix/conformance/blobs/sha512:ab'))).toBe('blobs/sha512:ab');
    expect(inputKey(at('passed', '/v2/conformance/tags/list?last=b'))).toBe('tags/list');
    expect(inputKey(tc('passed'))).toBe('');
  });

  it('does not blame the upstream for a redirector failure on an input the upstream gets right', () => {
    // the upstream fails another blob (sha512 there); the redirector fails a sha256 blob: that one is its own
    const v = officialVerdict({
      redirector: [at('passed', '/v2/c/blobs/sha512:ab'), at('failure', '/v2/c/blobs/sha256:cd')],
      upstream: [at('failure', '/v2/c/blobs/sha512:ab'), at('passed', '/v2/c/blobs/sha256:cd')],
    });
    expect(v.status).toBe('fail');
    const same = officialVerdict({
      redirector: [at('failure', '/v2/c/blobs/sha512:ab'), at('passed', '/v2/c/blobs/sha256:cd')],
      upstream: [at('passed', '/v2/c/blobs/sha256:cd'), at('failure', '/v2/up/c/blobs/sha512:ab')],
    });
    expect(same.status).toBe('not-applicable');
  });
});

describe('test names', () => {
  it('become check names below the root', () => {
    expect(relativeName('OCI Conformance Test/empty/tag list', 'OCI Conformance Test')).toBe('empty/tag list');
    expect(relativeName('OCI Conformance Test', 'OCI Conformance Test')).toBeNull();
    expect(checkNameOf('empty/tag list')).toBe('empty/tag-list');
  });
});

const image = (repo: string, tag: string, digest: string, extra: Partial<SeededImage> = {}): SeededImage => ({
  image: { ref: `${repo}:${tag}`, digest },
  repo,
  tag,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  size: 100,
  json: {},
  children: [],
  blobs: [],
  ...extra,
});
const referrer = (repo: string, subject: string, digest: string): SeededReferrer => ({
  repo,
  subject,
  digest,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  size: 10,
  foundVia: 'x',
});
const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('readOnlyInputs', () => {
  const content = (images: SeededImage[], referrers: SeededReferrer[] = []): SeededContent => ({
    target: { name: 't' } as TargetDescription,
    images,
    referrers,
  });

  it('takes the repository with referrers first, then the one with the most images', () => {
    const many = [image('many', 'a', d('1')), image('many', 'b', d('2')), image('many', 'c', d('3'))];
    const few = [image('few', 'a', d('4'))];
    expect(chooseRepository(content([...many, ...few]))).toBe('many');
    expect(chooseRepository(content([...many, ...few], [referrer('few', d('4'), d('5'))]))).toBe('few');
    expect(chooseRepository(content([]))).toBeNull();
    expect(readOnlyInputs(content([]))).toBeNull();
  });

  it('lists every tag, manifest (index children and referrers too) and blob of that repository once', () => {
    const blob = (digest: string) => ({ repo: 'r', digest, size: 1, mediaType: 'x', image: 'r:a' });
    const idx = image('r', 'index', d('a'), {
      children: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('b'), size: 1 }],
      blobs: [blob(d('c')), blob(d('e'))],
    });
    const plain = image('r', 'plain', d('b'), { blobs: [blob(d('c')), blob('sha1:notforgo')] });
    const other = image('other', 'x', d('f'), { blobs: [blob(d('9'))] });
    const inputs = readOnlyInputs(content([idx, plain, other], [referrer('r', d('b'), d('d'))]))!;
    expect(inputs).toEqual({
      repo: 'r',
      tags: ['index', 'plain'],
      manifests: [d('a'), d('b'), d('d')],
      blobs: [d('c'), d('e')],
      referrers: [d('b')],
    });
  });
});

describe('programVantage', () => {
  const v = (name: string, cloud: Vantage['cloud'], ip: string, url: string | null, tags?: string[]): Vantage => ({
    name,
    ip,
    cloud,
    region: null,
    url,
    ...(tags ? { tags } : {}),
  });
  const target = (vantages: Vantage[], ipMode: TargetDescription['ipMode'] = 'xff') =>
    ({ name: 't', url: 'http://redirector:1', ipMode, vantages }) as unknown as TargetDescription;

  it("speaks from a plain internet vantage's edge port when there is one", () => {
    const t = target([
      v('aws', 'AWS', '3.0.0.1', 'http://edge:1'),
      v('inet-v6', null, '2001:db8::1', 'http://edge:2'),
      v('inet', null, '8.8.8.8', 'http://edge:3'),
    ]);
    expect(programVantage(t)).toMatchObject({ baseUrl: 'http://edge:3', vantage: { name: 'inet' } });
  });

  it("falls back to another vantage's edge port, then to the target URL without headers", () => {
    expect(
      programVantage(target([v('inet', null, '8.8.8.8', null), v('gcp', 'GCP', '34.0.0.1', 'http://edge:9')])),
    ).toMatchObject({ baseUrl: 'http://edge:9' });
    const bare = programVantage(target([v('inet', null, '8.8.8.8', null)]));
    expect(bare.baseUrl).toBe('http://redirector:1');
    expect(bare.vantage).toBeUndefined();
  });
});
