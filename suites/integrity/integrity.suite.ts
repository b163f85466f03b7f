/**
 * integrity: full pulls of every image through every vantage (docs/suites.md): index → each platform →
 * config and layers, every body hashed and sized against its descriptor while it streams (harness pullImage). The
 * first hop of every manifest and blob request is judged by the routing oracle: a pull that succeeds by the wrong
 * route is a FAILURE of class routing (a pull that succeeds is not enough: docs/reference/incidents.md).
 *
 * Plus, per vantage, a resumed download: two Range requests joined must hash to the blob's digest, each a 206 with
 * the right Content-Range, and an unsatisfiable range a 416, never a 400
 * (docs/reference/incidents.md#routing-and-client-ip R7: the CDN's Range breakage cut off CRI-O and podman pulls;
 * RFC 9110 §14).
 */
import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  CheckFailure,
  Inconclusive,
  NotApplicable,
  OciError,
  clientForRoute,
  judgeFirstHop,
  pullImage,
  splitRef,
  targetOracle,
  vantageRoute,
  type Check,
  type Hop,
  type ImageRef,
  type RoutingEvidence,
  type RoutingOracle,
  type TargetDescription,
  type Vantage,
} from '../../harness/src/index.js';

export const INTEGRITY_SUITE = 'integrity';

export interface IntegritySuiteOptions {
  /** image refs to pull (default: every image of the target) */
  images?: readonly string[];
  /** the resumed-download check per vantage (default true) */
  range?: boolean;
  /** blobs in flight per pull (default 2; the runner already runs checks in parallel) */
  pullConcurrency?: number;
  /** largest blob the range check downloads (default 16 MiB) */
  rangeMaxBytes?: number;
}

const pathOf = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

interface RouteTally {
  mismatches: { evidence: RoutingEvidence; hops: Hop[]; message: string }[];
  judged: number;
  byReason: Record<string, number>;
}

/** Judges the first hop of one request chain; collects mismatches instead of stopping at the first. */
async function judgeChain(
  oracle: RoutingOracle,
  vantage: Vantage,
  hops: readonly Hop[],
  kind: string,
  tally: RouteTally,
  xff?: string,
): Promise<void> {
  const first = hops[0];
  if (!first || first.status === 0) return; // no answer at all: the pull's own error says so
  const request = { method: first.method, path: pathOf(first.url) };
  try {
    const evidence = await judgeFirstHop({
      oracle,
      vantage,
      request,
      hop: first,
      kind,
      ...(xff !== undefined ? { xff } : {}),
    });
    tally.judged++;
    tally.byReason[evidence.expected.reason] = (tally.byReason[evidence.expected.reason] ?? 0) + 1;
  } catch (err) {
    tally.judged++;
    if (err instanceof CheckFailure) {
      tally.mismatches.push({
        evidence: err.details!.routing as RoutingEvidence,
        hops: [...hops],
        message: err.message,
      });
    } else if (!(err instanceof Inconclusive)) {
      throw err; // an oracle/harness error
    }
    // Inconclusive (5xx/429/block on the first hop): the pull's error reports it with its class.
  }
}

function pullCheck(
  target: TargetDescription,
  vantage: Vantage,
  image: ImageRef,
  options: IntegritySuiteOptions,
): Check {
  return {
    id: `${INTEGRITY_SUITE}/${image.ref}@${vantage.name}`,
    suite: INTEGRITY_SUITE,
    title: `pull ${image.ref} through ${vantage.name}: every manifest and blob verified, every first hop as the oracle says`,
    rule: 'OCI dist-spec "Pulling manifests"/"Pulling blobs" (content verified against the requested digest and descriptor size); redirector rules 5–6 for every first hop',
    vantage,
    async run(ctx) {
      const route = vantageRoute(target, vantage);
      const oracle = await targetOracle(target);
      const client = clientForRoute(route, { signal: ctx.signal });
      const { repository, tag } = splitRef(image.ref);
      const tally: RouteTally = { mismatches: [], judged: 0, byReason: {} };
      const xff = route.headers['x-forwarded-for'];
      let pulled;
      try {
        pulled = await pullImage(client, repository, tag, {
          expected: { digest: image.digest },
          failFast: false,
          concurrency: options.pullConcurrency ?? 2,
        });
      } catch (err) {
        if (err instanceof OciError) await judgeChain(oracle, vantage, err.hops, 'integrity-manifest', tally, xff);
        if (tally.mismatches.length > 0) throw routingFailure(image, vantage, tally);
        throw err;
      }
      const allHops: Hop[] = [];
      for (const m of pulled.manifests) {
        allHops.push(...m.hops);
        await judgeChain(oracle, vantage, m.hops, 'integrity-manifest', tally, xff);
      }
      for (const b of pulled.blobs) {
        allHops.push(...b.hops);
        await judgeChain(oracle, vantage, b.hops, 'integrity-blob', tally, xff);
      }
      for (const e of pulled.errors)
        if (!pulled.blobs.some((b) => b.error === e))
          await judgeChain(oracle, vantage, e.hops, 'integrity-manifest', tally, xff);
      ctx.record?.(allHops, {
        digest: pulled.digest,
        manifests: pulled.manifests.length,
        blobs: pulled.blobs.length,
        bytesVerified: pulled.bytes,
        firstHopsJudged: tally.judged,
        routes: tally.byReason,
      });
      // The route is the root cause when both go wrong (a wrong bucket serving 404 or other bytes).
      if (tally.mismatches.length > 0) throw routingFailure(image, vantage, tally);
      const error = pulled.errors[0];
      if (error) {
        const servedBy = error.hops[error.hops.length - 1]?.url;
        if (error.code === 'DIGEST_MISMATCH' || error.code === 'SIZE_MISMATCH') {
          throw new CheckFailure(
            'integrity',
            `${image.ref} through ${vantage.name}: ${error.code}: ${error.message}${servedBy ? ` (bytes served by ${servedBy})` : ''}${pulled.errors.length > 1 ? `; ${pulled.errors.length - 1} more error(s)` : ''}`,
            error.hops,
            {
              errorCode: error.code,
              servedBy,
              errors: pulled.errors.map((e) => `${e.code}: ${e.message}`),
            },
          );
        }
        throw error;
      }
      if (pulled.digest !== image.digest) {
        throw new CheckFailure(
          'integrity',
          `${image.ref} resolved to ${pulled.digest}, the target lists ${image.digest}`,
          pulled.manifests[0]?.hops ?? [],
        );
      }
    },
  };
}

function routingFailure(image: ImageRef, vantage: Vantage, tally: RouteTally): CheckFailure {
  // the first mismatch's message names the vantage and the request; say which pull it broke
  const first = tally.mismatches[0]!;
  const more =
    tally.mismatches.length > 1 ? ` (and ${tally.mismatches.length - 1} more of ${tally.judged} requests)` : '';
  return new CheckFailure(
    'routing',
    `pull of ${image.ref} through ${vantage.name} took the wrong route: ${first.message}${more}`,
    first.hops,
    {
      mismatches: tally.mismatches.map((m) => m.evidence),
    },
  );
}

/** A Writable that feeds a shared hash (one per Range part; ending a part does not finish the hash). */
const hashSink = (hash: Hash, count: { n: number }) =>
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      count.n += chunk.byteLength;
      cb();
    },
  });

function rangeCheck(target: TargetDescription, vantage: Vantage, options: IntegritySuiteOptions): Check {
  return {
    id: `${INTEGRITY_SUITE}/range-resume@${vantage.name}`,
    suite: INTEGRITY_SUITE,
    title: `a blob fetched in two Range parts through ${vantage.name} joins to its digest; an unsatisfiable range is 416`,
    rule: 'RFC 9110 §14 / OCI dist-spec "Pulling blobs" Range: 206 + Content-Range, 416 when unsatisfiable, never 400 (docs/reference/incidents.md#routing-and-client-ip R7)',
    vantage,
    async run(ctx) {
      const route = vantageRoute(target, vantage);
      const oracle = await targetOracle(target);
      const cap = options.rangeMaxBytes ?? 16 * 1024 * 1024;
      // The largest blob (within the cap) whose route from here is a bucket, else the largest at all: the buckets'
      // Range handling is what broke in the field.
      const candidates = oracle
        .knownBlobs()
        .filter((b) => b.size !== undefined && b.size >= 2 && b.size <= cap && b.digest.startsWith('sha256:'));
      if (candidates.length === 0)
        throw new NotApplicable('no sha256 blob of known size (2 bytes to the cap) in the image catalog');
      const routed = await Promise.all(
        candidates.map(async (b) => ({
          b,
          e: await oracle.expect(vantage, { method: 'GET', path: `/v2/${b.repository}/blobs/${b.digest}` }),
        })),
      );
      routed.sort(
        (x, y) =>
          Number(y.e.reason === 'blob-bucket-hit') - Number(x.e.reason === 'blob-bucket-hit') || y.b.size! - x.b.size!,
      );
      const { b: blob } = routed[0]!;
      const size = blob.size!;
      const mid = Math.floor(size / 2);
      const client = clientForRoute(route, { signal: ctx.signal });
      const hash = createHash('sha256');
      const count = { n: 0 };
      const hops: Hop[] = [];
      const part = async (start: number, end: number | undefined) => {
        const r = await client.getBlobRange(
          blob.repository,
          blob.digest,
          end === undefined ? { start } : { start, end },
          { sink: hashSink(hash, count), blobSize: size },
        );
        hops.push(...r.hops);
        const last = r.hops[r.hops.length - 1]!;
        const wantEnd = end ?? size - 1;
        if (r.status !== 206) {
          const how = r.status === 200 ? 'ignored the Range (200, whole blob)' : `answered ${r.status}`;
          const fail = r.status >= 500 || r.status === 429 ? Inconclusive : CheckFailure;
          throw new fail(
            r.status >= 500 ? 'availability' : r.status === 429 ? 'rate-limited' : 'conformance',
            `Range ${r.range} of ${blob.digest} (${size} bytes) through ${vantage.name}: ${last.url} ${how}`,
            r.hops,
          );
        }
        const cr = r.parsedContentRange;
        if (
          cr?.kind !== 'range' ||
          cr.start !== start ||
          cr.end !== wantEnd ||
          (cr.size !== null && cr.size !== size)
        ) {
          throw new CheckFailure(
            'conformance',
            `Range ${r.range}: Content-Range ${JSON.stringify(r.contentRange)} from ${last.url}, expected "bytes ${start}-${wantEnd}/${size}"`,
            r.hops,
          );
        }
        return r;
      };
      const first = await part(0, mid - 1);
      const tally: RouteTally = { mismatches: [], judged: 0, byReason: {} };
      await judgeChain(oracle, vantage, first.hops, 'integrity-range', tally, route.headers['x-forwarded-for']);
      if (tally.mismatches.length > 0)
        throw new CheckFailure('routing', tally.mismatches[0]!.message, tally.mismatches[0]!.hops, {
          mismatches: tally.mismatches.map((m) => m.evidence),
        });
      await part(mid, undefined);
      const joined = `sha256:${hash.digest('hex')}`;
      ctx.record?.(hops, { blob: blob.digest, size, split: mid, bytes: count.n });
      if (count.n !== size || joined !== blob.digest) {
        throw new CheckFailure(
          'integrity',
          `two Range parts of ${blob.digest} joined to ${count.n} bytes hashing ${joined}; expected ${size} bytes hashing ${blob.digest}`,
          hops,
          {
            servedBy: hops[hops.length - 1]?.url,
          },
        );
      }
      let beyondStatus: number;
      let beyondHops: Hop[];
      try {
        const beyond = await client.getBlobRange(blob.repository, blob.digest, { start: size }, { blobSize: size });
        beyondStatus = beyond.status;
        beyondHops = beyond.hops;
      } catch (err) {
        // Only the status matters here (R7). distribution 2.8 answers 416 with the blob's Content-Length and a short
        // body, so the body read fails after the status arrived: judge the status, note the body.
        const last = err instanceof OciError ? err.hops[err.hops.length - 1] : undefined;
        if (!(err instanceof OciError) || last?.status !== 416) throw err;
        ctx.log(`the 416 from ${last.url} had a malformed body (${err.code}: ${err.message})`);
        beyondStatus = 416;
        beyondHops = err.hops;
      }
      hops.push(...beyondHops);
      ctx.record?.(beyondHops);
      if (beyondStatus !== 416) {
        const last = beyondHops[beyondHops.length - 1]!;
        throw new CheckFailure(
          'conformance',
          `unsatisfiable Range bytes=${size}- (blob is ${size} bytes) from ${last.url}: expected 416, got ${beyondStatus}${beyondStatus === 400 ? ' (the R7 CDN bug: 400 breaks resuming clients)' : ''}`,
          beyondHops,
        );
      }
    },
  };
}

export function integrityChecks(target: TargetDescription, options: IntegritySuiteOptions = {}): Check[] {
  const images = options.images ? target.images.filter((i) => options.images!.includes(i.ref)) : target.images;
  const checks: Check[] = [];
  for (const vantage of target.vantages) {
    for (const image of images) checks.push(pullCheck(target, vantage, image, options));
    if (options.range ?? true) checks.push(rangeCheck(target, vantage, options));
  }
  return checks;
}
