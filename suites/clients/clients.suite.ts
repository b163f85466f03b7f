/**
 * clients: real registry clients pull every image of the target through vantage edges and must end up with the
 * digests the target lists, and with the same digests as each other.
 *
 * skopeo (containers/image) and containerd (`ctr`) are the clients a node or a CI job actually runs; crane
 * (go-containerregistry) and regctl (regclient) are the two Go OCI libraries most tools are built on, built from
 * pinned versions (harness/src/clients/go-programs.ts). All four follow the redirector's 307s themselves and verify
 * what they fetch. docker is used when a daemon answers. Each tool pulls through one AWS, one GCP and one internet
 * vantage, the three routes of the redirector (regional bucket, upstream, default bucket). A target without edge
 * URLs cannot host real clients (they cannot set X-Forwarded-For): every check is then not applicable, with that
 * reason.
 */
import {
  clientReference,
  dockerDaemonProblem,
  dockerPull,
  optionalTool,
  craneRefusedRedirectHosts,
  CheckFailure,
  NotApplicable,
  type Check,
  type CheckContext,
  type ImageRef,
  type TargetDescription,
  type Vantage,
} from '../../harness/src/index.js';
import { clientDisagreements } from './client-agreement.js';
import { clientCommandFailure } from './client-failure.js';
import {
  assertAgreesWithTarget,
  cranePulls,
  ctrPulls,
  isRunnableImage,
  primaryDigests,
  regctlPulls,
  skopeoPulls,
  type ClientPulls,
} from './client-pulls.js';
import { clientVantages, type ClientEndpoint, type ClientVantage } from './client-vantages.js';

export const CLIENTS_SUITE = 'clients';

const TOOLS = ['skopeo', 'ctr', 'crane', 'regctl'] as const;
type Tool = (typeof TOOLS)[number];
const PULLERS: Record<Tool, typeof skopeoPulls> = {
  skopeo: skopeoPulls,
  ctr: ctrPulls,
  crane: cranePulls,
  regctl: regctlPulls,
};

/** Every base URL the redirector may send a client to: the buckets and the upstreams. */
export function redirectDestinations(target: TargetDescription): string[] {
  const all = [target.bucketMap.default, ...Object.values(target.bucketMap.regions), target.upstream];
  if (target.signatureUpstream !== null) all.push(target.signatureUpstream);
  return all;
}

function noImages(target: TargetDescription): never {
  throw new NotApplicable(`target "${target.name}" lists no images to pull`);
}

export function clientsChecks(target: TargetDescription): Check[] {
  const images = target.images;
  const chosen = clientVantages(target);
  const memo = new Map<string, Promise<ClientPulls>>();
  const pulls = (
    tool: Tool,
    endpoint: ClientEndpoint,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<ClientPulls> => {
    const key = `${tool}@${endpoint.vantage.name}`;
    let p = memo.get(key);
    if (p === undefined) {
      p = PULLERS[tool](endpoint, images, signal, log);
      memo.set(key, p);
    }
    return p;
  };

  const checks: Check[] = [];
  const add = (
    name: string,
    cv: ClientVantage,
    title: string,
    rule: string,
    run: (ctx: CheckContext, v: Vantage, e: ClientEndpoint) => Promise<void>,
  ) => {
    const endpoint = cv.endpoint;
    checks.push({
      id: `${CLIENTS_SUITE}/${name}@${endpoint?.vantage.name ?? cv.vantageClass}`,
      suite: CLIENTS_SUITE,
      title: `${title} (${endpoint ? `${endpoint.vantage.name}, ${cv.vantageClass}` : `no usable ${cv.vantageClass} vantage`})`,
      rule,
      ...(endpoint ? { vantage: endpoint.vantage } : {}),
      async run(ctx) {
        if (endpoint === null)
          throw new NotApplicable(cv.reason ?? `no ${cv.vantageClass} vantage a real client can use`);
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
        ctx.record?.([], {
          pulls: done.pulls.length,
          ...(done.notes.length > 0 ? { clientLimitations: done.notes } : {}),
        });
        assertAgreesWithTarget(v, done);
      },
    );
    add(
      'ctr',
      cv,
      'ctr content fetch --all-platforms of every image and ctr image pull (unpack) agree with the target digests',
      'real client (containerd): HEAD-resolved tag digest and content-store digest/size verification',
      async (ctx, v, e) => {
        ctx.log(`ctr: ${images.length} image(s) through ${e.baseUrl}`);
        const done = await pulls('ctr', e, ctx.signal, (m) => ctx.log(m));
        ctx.record?.([], {
          pulls: done.pulls.length,
          ...(done.notes.length > 0 ? { clientLimitations: done.notes } : {}),
        });
        assertAgreesWithTarget(v, done);
      },
    );
    add(
      'crane',
      cv,
      'crane digest and crane validate --remote (by that digest) of every image agree with the target digests',
      'real client (go-containerregistry): tag digest (OCI dist-spec "Pulling manifests"), the manifest by digest, blobs re-hashed',
      async (ctx, v, e) => {
        const refused = craneRefusedRedirectHosts(e.baseUrl, redirectDestinations(target));
        if (refused.length > 0) {
          const from = new URL(e.baseUrl).hostname;
          throw new CheckFailure(
            'harness',
            `crane would refuse the redirects from ${from} to ${refused.join(', ')} (its guard against redirects to ` +
              "loopback and private addresses allows only the first request's host): describe the target with one " +
              'host for its edges, buckets and upstream',
          );
        }
        ctx.log(`crane: ${images.length} image(s) through ${e.baseUrl}`);
        const done = await pulls('crane', e, ctx.signal, (m) => ctx.log(m));
        const notes = done.notes.length > 0 ? { clientLimitations: done.notes } : {};
        ctx.record?.([], { pulls: done.pulls.length, ...notes });
        assertAgreesWithTarget(v, done);
      },
    );
    add(
      'regctl',
      cv,
      'regctl image copy (every blob re-hashed) and regctl image digest of every image agree with the target digests',
      'real client (regclient): tag digest (OCI dist-spec "Pulling manifests"), a full copy into an OCI layout, every blob verified',
      async (ctx, v, e) => {
        ctx.log(`regctl: ${images.length} image(s) through ${e.baseUrl}`);
        const done = await pulls('regctl', e, ctx.signal, (m) => ctx.log(m));
        ctx.record?.([], { pulls: done.pulls.length });
        assertAgreesWithTarget(v, done);
      },
    );
    add(
      'agreement',
      cv,
      'skopeo, ctr, crane and regctl resolve every image to the same digest',
      'real clients agree with each other: their digests match',
      async (ctx, v, e) => {
        const settled = await Promise.allSettled(TOOLS.map((tool) => pulls(tool, e, ctx.signal)));
        const byTool = new Map<Tool, Map<string, string>>();
        const absent: string[] = [];
        settled.forEach((r, i) => {
          const tool = TOOLS[i]!;
          if (r.status === 'fulfilled') byTool.set(tool, primaryDigests(r.value.pulls));
          else absent.push(`${tool}: ${r.reason instanceof NotApplicable ? r.reason.reason : String(r.reason)}`);
        });
        const { compared, differ } = clientDisagreements(byTool);
        if (compared === 0) {
          throw new NotApplicable(`no two clients resolved an image in common through ${v.name} (see their checks)`);
        }
        ctx.record?.([], { compared, clients: [...byTool.keys()], ...(absent.length > 0 ? { absent } : {}) });
        if (differ.length > 0) {
          throw new CheckFailure('integrity', `clients disagree through ${v.name}: ${differ.join('; ')}`);
        }
      },
    );
    add(
      'docker',
      cv,
      'docker pull of every runnable image (when a docker daemon is reachable)',
      'real client (moby): repo digest after pull equals the tag digest',
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
          assertAgreesWithTarget(v, {
            pulls: [{ ref: image.ref, expected: image.digest, digest: pulled.digest, via: 'docker pull' }],
            failures: [],
          });
        }
      },
    );
  }
  return checks;
}
