import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { otherAlgorithmProblem } from './header-checks.js';

const body = Buffer.from('a layer addressed by its sha512 digest\n');
const sha = (alg: 'sha256' | 'sha512', b: Buffer) => `${alg}:${createHash(alg).update(b).digest('hex')}`;

describe('otherAlgorithmProblem', () => {
  it("accepts a Docker-Content-Digest in another algorithm when it is the body's digest in that algorithm", () => {
    expect(otherAlgorithmProblem(sha('sha256', body), sha('sha512', body), { body, truncated: false })).toBeNull();
  });

  it('rejects one that is not', () => {
    const wrong = sha('sha256', Buffer.from('other bytes'));
    expect(otherAlgorithmProblem(wrong, sha('sha512', body), { body, truncated: false })).toMatch(
      /is not the sha256 of the body/,
    );
  });

  it('leaves same-algorithm headers, absent headers, unknown algorithms and truncated bodies to other rules', () => {
    expect(
      otherAlgorithmProblem(sha('sha512', Buffer.from('x')), sha('sha512', body), { body, truncated: false }),
    ).toBeNull();
    expect(otherAlgorithmProblem(undefined, sha('sha512', body), { body, truncated: false })).toBeNull();
    expect(otherAlgorithmProblem('md5:abc', sha('sha512', body), { body, truncated: false })).toBeNull();
    expect(
      otherAlgorithmProblem(sha('sha256', Buffer.from('x')), sha('sha512', body), { body, truncated: true }),
    ).toBeNull();
  });
});
