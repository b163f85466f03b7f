/**
 * The redirectors a replay runs against: one local stack (its world: upstream, buckets, range data) and one
 * redirector per requested semantics. The stack's own redirector serves the first semantics; each other semantics is
 * a second redirector process in the same world, configured through the documented environment contract
 * (docs/configuration.md; docs/target-description.md "Pointing the same world at another redirector") and changing
 * only ROUTING_SEMANTICS. One world means both semantics see the very same buckets and blobs, so any difference in
 * their answers is the semantics and nothing else.
 */
import { join } from 'node:path';
import { startRedirectorProcess, upstreamPathSetting } from '../stack/redirector-process.js';
import { startStack, type Engine, type StartedStack } from '../stack/stack.js';
import type { Semantics, TargetDescription } from '../target/target-description.js';

export interface ReplayWorld {
  semantics: Semantics;
  /** the stack's description with `url` (and `semantics`) of this world's redirector */
  target: TargetDescription;
  /** the redirector's admin listener (`/explain`) */
  adminUrl: string;
}

export interface StartedReplayWorlds {
  stack: StartedStack;
  worlds: ReplayWorld[];
  stop(): Promise<void>;
}

export interface ReplayWorldOptions {
  semantics: readonly Semantics[];
  engine?: Engine;
  /** extra redirector environment for every world (e.g. PROTOCOL_COMPAT=archeio for production's quirks) */
  redirectorEnv?: Record<string, string>;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

/** The environment of a redirector in `target`'s world (the stack wrote its bucket map to `<tempDir>/bucket-map.json`). */
function worldEnv(stack: StartedStack, semantics: Semantics, extra: Record<string, string>): Record<string, string> {
  const t = stack.target;
  const ranges = stack.spec.rangeFiles;
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_PORT: '0',
    UPSTREAM_REGISTRY_ENDPOINT: t.upstream,
    UPSTREAM_REGISTRY_PATH: upstreamPathSetting(t.upstreamPath),
    ...(t.signatureUpstream ? { SIGNATURE_UPSTREAM_ENDPOINT: t.signatureUpstream } : {}),
    DEFAULT_AWS_BASE_URL: t.bucketMap.default,
    INFO_URL: t.infoUrl,
    PRIVACY_URL: t.privacyUrl,
    BUCKET_MAP: join(stack.tempDir, 'bucket-map.json'),
    AWS_IP_RANGES: ranges.aws,
    GCP_IP_RANGES: ranges.gcp,
    AZURE_IP_RANGES: ranges.azure,
    LOG_LEVEL: 'info',
    ...extra,
    ROUTING_SEMANTICS: semantics,
  };
}

export async function startReplayWorlds(options: ReplayWorldOptions): Promise<StartedReplayWorlds> {
  const [first, ...others] = options.semantics;
  if (first === undefined) throw new RangeError('at least one semantics');
  const stack = await startStack({
    semantics: first,
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.redirectorEnv ? { redirectorEnv: options.redirectorEnv } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const extra: { stop(): Promise<void> }[] = [];
  try {
    const worlds: ReplayWorld[] = [{ semantics: first, target: stack.target, adminUrl: stack.redirector.adminUrl }];
    for (const semantics of others) {
      const r = await startRedirectorProcess({
        env: worldEnv(stack, semantics, options.redirectorEnv ?? {}),
        timeoutMs: 30_000,
      });
      extra.push(r);
      options.log?.(`redirector (${semantics}): ${r.url} in the same world`);
      // the edge ports front the stack's own redirector: this one is reached in xff mode only
      worlds.push({
        semantics,
        target: {
          ...stack.target,
          name: `local-${semantics}`,
          url: r.url,
          semantics,
          vantages: stack.target.vantages.map((v) => ({ ...v, url: null })),
        },
        adminUrl: r.adminUrl,
      });
    }
    return {
      stack,
      worlds,
      async stop() {
        await Promise.all(extra.map((r) => r.stop()));
        await stack.stop();
      },
    };
  } catch (err) {
    await Promise.all(extra.map((r) => r.stop()));
    await stack.stop();
    throw err;
  }
}
