/**
 * Range on blob GETs, judged on the final hop (bucket or upstream), which is where a redirector's world breaks it
 * (docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 4; field case: a CDN answering 400). Range is
 * a SHOULD (spec "Pulling blobs", RFC 9110 §14), but Docker resumes only on a 206 with the right Content-Range and
 * containerd's parallel chunks rely on it, so a 200 is reported as a failure here (G2 records it as "range
 * unsupported").
 *
 * The vectors are G2's R7–R12, which use a 2048-byte blob, applied to the smallest seeded blob of at least 2048
 * bytes with offsets computed from its size S; plus E9 (two halves recombine to the digest).
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  parseContentRange,
  rangeHeaderValue,
  type ByteRangeRequest,
  failureClassOf,
  isOciError,
  CheckFailure,
  NotApplicable,
  type Check,
  type Hop,
  transportClassOf,
  type RangeResult,
} from '../../harness/src/index.js';
import type { ConformanceKit } from './conformance-kit.js';
import { finalHopRoutes } from './conformance-routes.js';
import { finalHopTargets, type FinalHopTarget } from './final-hop-probe.js';
import { blobsAtLeast, type SeededBlob } from './seeded-content.js';

const MIN_RANGE_BLOB = 2048;

interface RangeSubject {
  blob: SeededBlob;
  bytes: Buffer;
  targets: FinalHopTarget[];
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function collector(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      into.push(chunk);
      cb();
    },
  });
}

/** One vector: the Range to send and what a correct final hop answers. */
interface RangeVector {
  name: string;
  title: string;
  rule: string;
  range(size: number): ByteRangeRequest;
  /** the inclusive slice a 206 must carry, or 'unsatisfiable' (416), or 'invalid' (416 or the whole blob) */
  expect(size: number): { start: number; end: number } | 'unsatisfiable' | 'invalid';
}

const VECTORS: RangeVector[] = [
  {
    name: 'range-500-1499',
    title: 'Range bytes=500-1499 → 206, the exact slice, Content-Length 1000, Content-Range bytes 500-1499/S (G2 R7)',
    rule: 'G2 R7; dist-spec "Pulling blobs" Range (RFC 9110 §14.2, §15.3.7)',
    range: () => ({ start: 500, end: 1499 }),
    expect: () => ({ start: 500, end: 1499 }),
  },
  {
    name: 'range-500-open',
    title: 'Range bytes=500- → 206, bytes 500 to the end (G2 R8; Docker and containerd resume this way)',
    rule: 'G2 R8; dist-spec "Pulling blobs" Range; docs/reference/oci-distribution.md#clients-through-redirects (resume needs 206 + Content-Range)',
    range: () => ({ start: 500 }),
    expect: (s) => ({ start: 500, end: s - 1 }),
  },
  {
    name: 'range-suffix-500',
    title: 'Range bytes=-500 → 206, the last 500 bytes (G2 R9)',
    rule: 'G2 R9; dist-spec "Pulling blobs" Range (RFC 9110 §14.1.2 suffix range)',
    range: () => ({ suffix: 500 }),
    expect: (s) => ({ start: s - 500, end: s - 1 }),
  },
  {
    name: 'range-past-end',
    title: 'Range from 48 bytes before the end to past the end → 206, the last 48 bytes (G2 R10)',
    rule: 'G2 R10; dist-spec "Pulling blobs" Range (RFC 9110 §14.1.2: a last-pos past the end is clamped)',
    range: (s) => ({ start: s - 48, end: s + 2952 }),
    expect: (s) => ({ start: s - 48, end: s - 1 }),
  },
  {
    name: 'range-invalid-500-0',
    title: 'Range bytes=500-0 (last < first) → 416, or the header ignored (200, whole blob); never 400 (G2 R11)',
    rule: 'G2 R11; RFC 9110 §14.1.1 (an invalid range may be ignored) and RFC 9110 §15.5.17; docs/reference/oci-distribution.md#edge-cases E8',
    range: () => 'bytes=500-0',
    expect: () => 'invalid',
  },
  {
    name: 'range-unsatisfiable',
    title: 'Range starting past the end → 416 (ideally Content-Range bytes */S); never 400 (G2 R12)',
    rule: 'G2 R12; RFC 9110 §15.5.17 416 Range Not Satisfiable; docs/reference/oci-distribution.md#edge-cases E8 (field case: CDN 400)',
    range: (s) => ({ start: s + 2952, end: s + 7952 }),
    expect: () => 'unsatisfiable',
  },
];

function judge(vector: RangeVector, subject: RangeSubject, target: FinalHopTarget, r: RangeResult): string | null {
  const size = subject.blob.size;
  const want = vector.expect(size);
  const where = `${target.label}: Range ${r.range} → ${r.status}`;
  if (want === 'invalid') {
    if (r.status === 416) return null;
    if (r.status === 200 && r.verified === 'full') return null;
    return `${where}; expected 416 or the whole blob with 200`;
  }
  if (want === 'unsatisfiable') {
    if (r.status !== 416) return `${where}; expected 416`;
    const cr = r.parsedContentRange;
    if (r.contentRange !== undefined && (cr === null || cr.kind !== 'unsatisfied' || cr.size !== size)) {
      return `${where} with Content-Range ${JSON.stringify(r.contentRange)}; expected "bytes */${size}"`;
    }
    return null;
  }
  if (r.status !== 206)
    return `${where}; expected 206 with bytes ${want.start}-${want.end}/${size}${r.status === 200 ? ' (the range was ignored)' : ''}`;
  const cr = r.parsedContentRange;
  if (cr === null || cr.kind !== 'range')
    return `${where} with Content-Range ${JSON.stringify(r.contentRange)}; expected "bytes ${want.start}-${want.end}/${size}"`;
  if (cr.start !== want.start || cr.end !== want.end || (cr.size !== null && cr.size !== size)) {
    return `${where} with Content-Range ${r.contentRange}; expected "bytes ${want.start}-${want.end}/${size}" (or /*)`;
  }
  const length = want.end - want.start + 1;
  if (r.contentLength !== undefined && r.contentLength !== length)
    return `${where} with Content-Length ${r.contentLength}; expected ${length}`;
  if (r.size !== length) return `${where} with a ${r.size}-byte body; expected ${length}`;
  return null;
}

/**
 * getBlobRange, with failures attributed to the final hop that caused them. A 416 whose body cannot be read (e.g.
 * docker-registry 2.8 keeps the blob's Content-Length on its 416) is still a 416: only its status and Content-Range
 * matter. Wrong bytes in a 206 are an integrity failure naming the final hop.
 */
async function rangeRequest(
  target: FinalHopTarget,
  s: RangeSubject,
  range: ByteRangeRequest,
  sliceDigest: string | undefined,
): Promise<RangeResult> {
  try {
    return await target.client.getBlobRange(s.blob.repo, s.blob.digest, range, {
      blobSize: s.blob.size,
      ...(sliceDigest ? { sliceDigest } : {}),
    });
  } catch (err) {
    if (!isOciError(err)) throw err;
    const last = err.hops[err.hops.length - 1];
    if (err.code === 'NETWORK' && last?.status === 416) {
      const contentRange = last.headers['content-range'];
      return {
        hops: err.hops,
        status: 416,
        range: typeof range === 'string' ? range : rangeHeaderValue(range),
        ...(contentRange !== undefined ? { contentRange } : {}),
        parsedContentRange: parseContentRange(contentRange),
        size: 0,
        digest: '',
        verified: 'none',
      };
    }
    const cls = failureClassOf(err);
    throw new CheckFailure(
      cls,
      `${target.label}: Range ${typeof range === 'string' ? range : rangeHeaderValue(range)}: ${err.code}: ${err.message}`,
      err.hops,
      err.details,
    );
  }
}

export function rangeChecks(kit: ConformanceKit): Check[] {
  let subject: Promise<RangeSubject> | undefined;
  const loadSubject = (): Promise<RangeSubject> => {
    subject ??= (async () => {
      const content = await kit.content();
      const blob = blobsAtLeast(content, MIN_RANGE_BLOB)[0];
      if (blob === undefined) {
        throw new NotApplicable(`no seeded blob has at least ${MIN_RANGE_BLOB} bytes (G2's range vectors need one)`);
      }
      const chunks: Buffer[] = [];
      await kit.route.client().getBlob(blob.repo, blob.digest, { expectedSize: blob.size, sink: collector(chunks) });
      const targets = await finalHopTargets(finalHopRoutes(kit.target), blob);
      if (targets.length === 0)
        throw new CheckFailure('availability', `HEAD of ${blob.repo}@${blob.digest} did not end in 200 on any route`);
      return { blob, bytes: Buffer.concat(chunks), targets };
    })();
    return subject;
  };

  const checks = VECTORS.map((vector) =>
    kit.check(vector.name, vector.title, vector.rule, async ({ evidence }) => {
      const s = await loadSubject();
      const problems: string[] = [];
      const hops: Hop[] = [];
      for (const target of s.targets) {
        const want = vector.expect(s.blob.size);
        const slice = typeof want === 'object' ? s.bytes.subarray(want.start, want.end + 1) : undefined;
        const r = await rangeRequest(target, s, vector.range(s.blob.size), slice ? sha256(slice) : undefined);
        hops.push(...r.hops);
        const last = r.hops[r.hops.length - 1];
        const cls = transportClassOf(r.status, last?.headers['content-type'] ?? '');
        if (cls !== undefined) throw new CheckFailure(cls, `${target.label}: Range ${r.range} → ${r.status}`, r.hops);
        const problem = judge(vector, s, target, r);
        if (problem !== null) problems.push(problem);
      }
      if (problems.length > 0)
        throw new CheckFailure('conformance', problems.join('; '), hops, { blob: s.blob.digest, size: s.blob.size });
      evidence(hops, { blob: s.blob.digest, size: s.blob.size, finalHops: s.targets.map((t) => t.label) });
    }),
  );

  checks.push(
    kit.check(
      'range-parallel-halves',
      'Two Range halves fetched separately recombine to the blob digest (containerd parallel chunks)',
      'docs/reference/oci-distribution.md#edge-cases E9, docs/reference/oci-distribution.md#clients-through-redirects (containerd: Range bytes=N- per chunk); dist-spec "Pulling blobs" Range',
      async ({ evidence }) => {
        const s = await loadSubject();
        const half = Math.floor(s.blob.size / 2);
        const hops: Hop[] = [];
        for (const target of s.targets) {
          const parts: Buffer[] = [];
          for (const range of [{ start: 0, end: half - 1 }, { start: half }] as const) {
            const chunks: Buffer[] = [];
            let r: RangeResult;
            try {
              r = await target.client.getBlobRange(s.blob.repo, s.blob.digest, range, {
                blobSize: s.blob.size,
                sink: collector(chunks),
              });
            } catch (err) {
              if (!isOciError(err)) throw err;
              throw new CheckFailure(
                failureClassOf(err),
                `${target.label}: Range ${rangeHeaderValue(range)}: ${err.code}: ${err.message}`,
                err.hops,
                err.details,
              );
            }
            hops.push(...r.hops);
            if (r.status !== 206) {
              throw new CheckFailure(
                'conformance',
                `${target.label}: Range ${r.range} → ${r.status}, expected 206`,
                r.hops,
              );
            }
            parts.push(Buffer.concat(chunks));
          }
          const algorithm = s.blob.digest.split(':')[0]!;
          const got = `${algorithm}:${createHash(algorithm).update(Buffer.concat(parts)).digest('hex')}`;
          if (got !== s.blob.digest) {
            throw new CheckFailure(
              'integrity',
              `${target.label}: the two halves of ${s.blob.digest} hash to ${got}`,
              hops,
            );
          }
        }
        evidence(hops, { blob: s.blob.digest, finalHops: s.targets.map((t) => t.label) });
      },
    ),
  );
  return checks;
}
