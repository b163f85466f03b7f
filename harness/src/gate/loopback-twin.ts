/**
 * A loopback twin of a built-in remote target ("the remote targets cannot be reached from CI. Their logic is
 * tested by pointing the built-in descriptions at a local stack configured to look like them (same bucket names and
 * paths on loopback), never by mocking the harness").
 *
 * The stack is configured like the environment: its semantics, production's protocol quirks when asked
 * (PROTOCOL_COMPAT=archeio, docs/reference/archeio.md#quirks), the upstream's repository prefix (a path-prefix proxy in
 * front of the stack's registries, so redirects say `/v2/k8s-artifacts-prod/images/<name>/…` as production's do), and
 * the stack's buckets already carry production's names (harness/src/stack/bucket-map.ts). The description is the
 * built-in one with each host rewritten to its loopback counterpart, field by field:
 *
 *   url                 → an edge port that stamps the egress address (the harness "is" that client, as in egress mode)
 *   upstream            → the prefix proxy in front of the stack's upstream (upstreamPath kept)
 *   signatureUpstream   → the prefix proxy in front of the stack's signature registry
 *   bucketMap.regions   → the stack's bucket of the same name, region by region (a name the stack lacks is an error)
 *   bucketMap.default   → the stack's default bucket (production's default is a CDN with no bucket name)
 *   infoUrl, privacyUrl → the stack's info pages
 *   images              → the stack's images (production's digests do not exist on loopback); knownBlobs dropped
 * Everything else (name suffixed `-twin`, ipMode egress, semantics, vantages, knownIssues, locationMatch,
 * mirrorPlan: null so blob presence is learnt by HEAD as for the real targets) is the built-in description's.
 */
import { Edge } from '../stack/edge.js';
import { upstreamPathSetting } from '../stack/redirector-process.js';
import { startStack, type StackOptions, type StartedStack } from '../stack/stack.js';
import { parseTargetDescription, type TargetDescription } from '../target/target-description.js';
import { bucketNameOf } from './location-shape.js';
import { PathPrefixProxy } from './path-prefix-proxy.js';

export class LoopbackTwinError extends Error {
  readonly code = 'LOOPBACK_TWIN_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'LoopbackTwinError';
  }
}

export interface LoopbackTwinOptions {
  /** the address the harness speaks from: the twin's `url` stamps it, as the internet would (egress mode) */
  egressIp: string;
  /** the stack's routing semantics (default: the built-in target's) */
  semantics?: TargetDescription['semantics'];
  /** production's protocol quirks (query dropped, 405 without Allow, ...): default true for archeio semantics */
  archeioProtocol?: boolean;
  /** more redirector environment (e.g. a mutant, for a test that needs a new failure) */
  redirectorEnv?: Record<string, string>;
  /** other startStack options (tmpRoot, log, ...) */
  stack?: Omit<StackOptions, 'semantics' | 'redirectorEnv'>;
}

export interface StartedLoopbackTwin {
  /** the built-in description, rewritten onto loopback */
  target: TargetDescription;
  stack: StartedStack;
  stop(): Promise<void>;
}

const trim = (s: string) => s.replace(/\/+$/, '');

/** The description rewrite (pure): the built-in target onto the stack's world. Exported for its unit test. */
export function twinDescription(
  builtIn: TargetDescription,
  world: TargetDescription,
  urls: { url: string; upstream: string; signatureUpstream: string | null },
): TargetDescription {
  const localByName = new Map<string, string>();
  for (const base of Object.values(world.bucketMap.regions)) localByName.set(bucketNameOf(base), trim(base));
  const regions: Record<string, string> = {};
  for (const [region, base] of Object.entries(builtIn.bucketMap.regions)) {
    const name = bucketNameOf(base);
    const local = localByName.get(name);
    if (local === undefined)
      throw new LoopbackTwinError(
        `${builtIn.name}: bucket ${name} (region ${region}) has no loopback counterpart in the stack (it holds ${[...localByName.keys()].length} buckets)`,
      );
    regions[region] = local;
  }
  const { knownBlobs: _dropped, ipEchoUrl: _echo, egressVantage: _egress, ...rest } = builtIn;
  return parseTargetDescription(
    {
      ...rest,
      name: `${builtIn.name}-twin`,
      url: urls.url,
      ipMode: 'egress',
      upstream: urls.upstream,
      signatureUpstream: builtIn.signatureUpstream === null ? null : urls.signatureUpstream,
      infoUrl: world.infoUrl,
      privacyUrl: world.privacyUrl,
      bucketMap: { default: trim(world.bucketMap.default), regions },
      s3: null,
      images: world.images,
      mirrorPlan: null,
      twinOf: { name: builtIn.name, url: builtIn.url },
    },
    `${builtIn.name} loopback twin`,
  );
}

export async function startLoopbackTwin(
  builtIn: TargetDescription,
  options: LoopbackTwinOptions,
): Promise<StartedLoopbackTwin> {
  const semantics = options.semantics ?? builtIn.semantics;
  const upstreamProxy = await new PathPrefixProxy(builtIn.upstreamPath).start();
  const signatureProxy = await new PathPrefixProxy(builtIn.upstreamPath).start();
  let stack: StartedStack | undefined;
  let edge: Edge | undefined;
  try {
    stack = await startStack({
      ...(options.stack ?? {}),
      semantics,
      redirectorEnv: {
        UPSTREAM_REGISTRY_ENDPOINT: upstreamProxy.url,
        UPSTREAM_REGISTRY_PATH: upstreamPathSetting(builtIn.upstreamPath),
        SIGNATURE_UPSTREAM_ENDPOINT: signatureProxy.url,
        ...((options.archeioProtocol ?? semantics === 'archeio')
          ? { PROTOCOL_COMPAT: 'archeio', PRESERVE_QUERY: 'false' }
          : {}),
        ...(options.redirectorEnv ?? {}),
      },
    });
    upstreamProxy.setBackend(stack.upstreams.registry.url);
    signatureProxy.setBackend((stack.upstreams.signature ?? stack.upstreams.registry).url);
    edge = await new Edge({
      backend: stack.redirector.url,
      lbIp: stack.target.lbIp ?? '0.0.0.0',
      ports: [{ name: 'egress', clientIp: options.egressIp }],
    }).start();
    const target = twinDescription(builtIn, stack.target, {
      url: edge.urlFor('egress')!,
      upstream: upstreamProxy.url,
      signatureUpstream: signatureProxy.url,
    });
    const started = stack;
    const startedEdge = edge;
    return {
      target,
      stack: started,
      async stop() {
        await startedEdge.stop();
        await started.stop();
        await Promise.all([upstreamProxy.stop(), signatureProxy.stop()]);
      },
    };
  } catch (err) {
    await edge?.stop();
    await stack?.stop();
    await Promise.all([upstreamProxy.stop(), signatureProxy.stop()]);
    throw err;
  }
}
