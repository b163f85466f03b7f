/**
 * Mutants: deliberately broken redirectors, for proving that the harness catches each break
 * (docs/testing.md#proving-the-harness-mutation-tests). A mutant is a set of wrappers applied once at start-up around
 * the correct parts: the request facts going in, the classifier, the bucket map, the probe, or the reply going out. The
 * correct code paths are not touched, so a normal run pays nothing for mutants, and each mutant is a few readable
 * lines.
 *
 * Guard rails (start-redirector.ts): REDIRECTOR_MUTANT is refused unless REDIRECTOR_ALLOW_MUTANTS=1, a warning is
 * logged at start, and /readyz plus the `redirector_mutant` metric name it.
 */
import type { MutantName } from '../config.js';
import type { BucketMap } from '../routing/index.js';
import type { ProbeResult } from '../blobs/index.js';
import type { Reply } from './reply.js';
import type { BlobProber, Classify, HttpRequest } from './request-handler.js';

export interface Mutation {
  readonly name: MutantName;
  bucketMap?(map: BucketMap): BucketMap;
  classify?(inner: Classify): Classify;
  probe?(inner: BlobProber): BlobProber;
  request?(req: HttpRequest): HttpRequest;
  reply?(reply: Reply, req: HttpRequest): Reply;
}

const ALWAYS_THERE: ProbeResult = Object.freeze({
  verdict: 'hit',
  outcome: 'head-found',
  status: null,
  headMs: null,
  coalesced: false,
});
const MANIFEST = /^\/v2\/.+\/manifests\/([^/?]+)/;

/** The wrappers for a mutant; `buckets` is the correct map (some mutants point at its buckets). */
export function createMutation(name: MutantName, buckets: BucketMap): Mutation {
  switch (name) {
    case 'ignore-xff':
      return {
        name,
        request: (req) => ({
          method: req.method,
          target: req.target,
          xff: undefined,
          remoteAddress: req.remoteAddress,
        }),
      };
    case 'trust-leftmost-xff':
      // the leftmost entry is whatever the client wrote: the spoofable choice distribution and mirrorbits make
      return {
        name,
        request(req) {
          const first = req.xff?.split(/[ ,]+/).find((t) => t !== '');
          return first === undefined
            ? req
            : { method: req.method, target: req.target, xff: undefined, remoteAddress: first };
        },
      };
    case 'wrong-bucket':
      return {
        name,
        bucketMap: (m) => ({
          default: m.default,
          regions: { ...m.regions, 'us-east-1': m.regions['us-west-2'] ?? m.default },
        }),
      };
    case 'no-existence-check':
      return { name, probe: () => ({ peek: () => ALWAYS_THERE, check: () => Promise.resolve(ALWAYS_THERE) }) };
    case 'manifests-to-bucket':
      return {
        name,
        reply(reply, req) {
          const m = MANIFEST.exec(req.target);
          if (m === null || reply.status !== 307) return reply;
          const headers = reply.headers.slice();
          headers[headers.indexOf('Location') + 1] = `${buckets.default}/containers/images/${m[1]}`;
          return { ...reply, headers };
        },
      };
    case 'gcp-to-s3':
      return {
        name,
        classify: (inner) => (ip) => {
          const c = inner(ip);
          return c !== null && c.cloud === 'GCP' ? null : c;
        },
      };
    case 'no-ipv6':
      return { name, classify: (inner) => (ip) => (ip.family === 6 ? null : inner(ip)) };
    case 'redirect-302':
      return { name, reply: (reply) => (reply.status === 307 ? { ...reply, status: 302 } : reply) };
  }
}
