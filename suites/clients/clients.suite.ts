/**
 * clients: real registry clients pull every image of the target through vantage edges and must end up with the
 * digests the target lists, and with the same digests as each other ("clients").
 *
 * skopeo (containers/image) and containerd (`ctr`) are the clients a node or a CI job actually runs; they follow the
 * redirector's 307s themselves and verify what they store. crane and docker are used when present. Each tool pulls
 * through one AWS, one GCP and one internet vantage, the three routes of the redirector (regional bucket, upstream,
 * default bucket). A target without edge URLs cannot host real clients (they cannot set X-Forwarded-For): every
 * check is then not applicable, with that reason.
 */
import {
  clientReference,
  craneDigest,
  craneValidateRemote,
  dockerDaemonProblem,
  dockerPull,
  optionalTool,
  CheckFailure,
  NotApplicable,
  type Check,
  type CheckContext,
  type ImageRef,
  type TargetDescription,
  type Vantage,
} from '../../harness/src/index.js';
import { clientCommandFailure } from './client-failure.js';
import { assertAgreesWithTarget, ctrPulls, isRunnableImage, primaryDigests, skopeoPulls, type ClientPulls } from './client-pulls.js';
import { clientVantages, type ClientEndpoint, type ClientVantage } from './client-vantages.js';

export const CLIENTS_SUITE = 'clients';

type Tool = 'skopeo' | 'ctr';

function noImages(target: TargetDescription): never {
  throw new NotApplicable(`target "${target.name}" lists no images to pull`);
}

export function clientsChecks(target: TargetDescription): Check[] {
  const images = target.images;
  const chosen = clientVantages(target);
  const memo = new Map<string, Promise<ClientPulls>>();
  const pulls = (tool: Tool, endpoint: ClientEndpoint, signal: AbortSignal, log?: (m: string) => void): Promise<ClientPulls> => {
    const key = `${tool}@${endpoint.vantage.name}`;
    let p = memo.get(key);
    if (p === undefined) {
      p = tool === 'skopeo' ? skopeoPulls(endpoint, images, signal, log) : ctrPulls(endpoint, images, signal, log);
      memo.set(key, p);
    }
    return p;
  };

  const checks: Check[] = [];
  const add = (name: string, cv: ClientVantage, title: string, rule: string, run: (ctx: CheckContext, v: Vantage, e: ClientEndpoint) => Promise<void>) => {
    const endpoint = cv.endpoint;
    checks.push({
      id: `${CLIENTS_SUITE}/${name}@${endpoint?.vantage.name ?? cv.vantageClass}`,
      suite: CLIENTS_SUITE,
      title: `${title} (${endpoint ? `${endpoint.vantage.name}, ${cv.vantageClass}` : `no usable ${cv.vantageClass} vantage`})`,
      rule,
      ...(endpoint ? { vantage: endpoint.vantage } : {}),
      async run(ctx) {
        if (endpoint === null) throw new NotApplicable(cv.reason ?? `no ${cv.vantageClass} vantage a real client can use`);
        if (images.length === 0) noImages(target);
        await run(ctx, endpoint.vantage, endpoint);
      },
    });
  };

  for (const cv of chosen) {
    add(
      'skopeo',
      cv,
      'skopeo inspect --raw and skopeo copy --all of every image agree with the target digests',
      'real client (containers/image): manifest by tag hashes to the tag digest (OCI dist-spec "Pulling manifests"); every blob verified by skopeo ("Pulling blobs")',
      async (ctx, v, e) => {
        ctx.log(`skopeo: ${images.length} image(s) through ${e.baseUrl}`);
        const done = await pulls('skopeo', e, ctx.signal, (m) => ctx.log(m));
        ctx.record?.([], { pulls: done.pulls.length, ...(done.notes.length > 0 ? { clientLimitations: done.notes } : {}) });
        assertAgreesWithTarget(v, done);
      },
    );
    add(
      'ctr',
      cv,
      'ctr content fetch --all-platforms of every image and ctr image pull (unpack) agree with the target digests',
      'real client (containerd): HEAD-resolved tag digest (docs/reference/oci-pull-path.md#clients-through-redirects) and content-store digest/size verification',
      async (ctx, v, e) => {
        ctx.log(`ctr: ${images.length} image(s) through ${e.baseUrl}`);
        const done = await pulls('ctr', e, ctx.signal, (m) => ctx.log(m));
        ctx.record?.([], { pulls: done.pulls.length, ...(done.notes.length > 0 ? { clientLimitations: done.notes } : {}) });
        assertAgreesWithTarget(v, done);
      },
    );
    add(
      'agreement',
      cv,
      'skopeo and ctr resolve every image to the same digest',
      'real clients agree with each other: the same digest for every image (docs/suites.md#clients)',
      async (ctx, v, e) => {
        const [s, c] = await Promise.all([pulls('skopeo', e, ctx.signal), pulls('ctr', e, ctx.signal)]);
        const bySkopeo = primaryDigests(s.pulls);
        const byCtr = primaryDigests(c.pulls);
        // Images one client failed on are that client's check's business; here only what both resolved is compared.
        const common = [...bySkopeo].filter(([ref]) => byCtr.has(ref));
        if (common.length === 0) throw new NotApplicable(`skopeo and ctr resolved no image in common through ${v.name} (see their own checks)`);
        ctx.record?.([], { compared: common.length });
        const differ = common.filter(([ref, digest]) => byCtr.get(ref) !== digest);
        if (differ.length > 0) {
          const lines = differ.map(([ref, digest]) => `${ref}: skopeo ${digest}, ctr ${byCtr.get(ref)}`);
          throw new CheckFailure('integrity', `skopeo and ctr disagree through ${v.name}: ${lines.join('; ')}`);
        }
      },
    );
    add(
      'crane',
      cv,
      'crane digest and crane validate --remote of every image (when crane is installed)',
      'real client (go-containerregistry): tag digest and full re-hash of layers, config and manifests (docs/reference/oci-pull-path.md#clients-through-redirects)',
      async (ctx, v, e) => {
        const bin = await optionalTool('crane', 'it is not packaged in Debian 12; install go-containerregistry to enable this check');
        for (const image of images) {
          const ref = clientReference(e.baseUrl, image.ref);
          const d = await craneDigest(bin, ref, { timeoutMs: 120_000, signal: ctx.signal });
          if (d.digest === null) throw clientCommandFailure(`crane digest ${ref.text}`, d.run);
          assertAgreesWithTarget(v, { pulls: [{ ref: image.ref, expected: image.digest, digest: d.digest, via: 'crane digest' }], failures: [] });
          const validated = await craneValidateRemote(bin, ref, { timeoutMs: 300_000, signal: ctx.signal });
          if (validated.exitCode !== 0) throw clientCommandFailure(`crane validate --remote ${ref.text}`, validated);
        }
      },
    );
    add(
      'docker',
      cv,
      'docker pull of every runnable image (when a docker daemon is reachable)',
      'real client (moby): repo digest after pull equals the tag digest (docs/reference/oci-pull-path.md#clients-through-redirects)',
      async (ctx, v, e) => {
        const bin = await optionalTool('docker', 'no docker CLI on PATH');
        const problem = await dockerDaemonProblem(bin);
        if (problem !== null) throw new NotApplicable(`the docker CLI is installed but no daemon answers: ${problem}`);
        const runnable: ImageRef[] = images.filter(isRunnableImage);
        if (runnable.length === 0) throw new NotApplicable('the target lists no runnable images (only artifacts)');
        for (const image of runnable) {
          const ref = clientReference(e.baseUrl, image.ref);
          const pulled = await dockerPull(bin, ref, { timeoutMs: 300_000, signal: ctx.signal });
          if (pulled.digest === null) throw clientCommandFailure(`docker pull ${ref.text}`, pulled.run);
          assertAgreesWithTarget(v, { pulls: [{ ref: image.ref, expected: image.digest, digest: pulled.digest, via: 'docker pull' }], failures: [] });
        }
      },
    );
  }
  return checks;
}
