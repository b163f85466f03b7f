/**
 * Another redirector process in an existing local stack's world: the same upstream, buckets and range data, its own
 * process and environment (a mutant, a bucket map through another front, refresh sources, timeouts, a process to
 * SIGTERM). The description it returns is the world's with `url` changed: "any redirector can be
 * tested against the same world by changing url". Its vantages lose their edge URLs: the edge ports still front the
 * stack's own redirector, so checks that need one must say "not applicable" rather than test the wrong process.
 *
 * The environment follows the redirector's documented contract (docs/configuration.md), never its code.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_RANGE_FILES } from '../oracle/published-ranges.js';
import type { BucketMap, TargetDescription } from '../target/target-description.js';
import { startRedirectorProcess, upstreamPathSetting, type StartedRedirector } from './redirector-process.js';

export interface WorldRedirectorOptions {
  /** names the bucket-map file in `dir` and the description (`<world>+<name>`) */
  name: string;
  /** extra environment, applied last */
  env?: Record<string, string>;
  /** default: the world's */
  bucketMap?: BucketMap;
}

export interface WorldRedirector {
  started: StartedRedirector;
  target: TargetDescription;
}

export async function startWorldRedirector(
  world: TargetDescription,
  dir: string,
  options: WorldRedirectorOptions,
): Promise<WorldRedirector> {
  const bucketMap = options.bucketMap ?? world.bucketMap;
  const mapFile = join(dir, `bucket-map-${options.name}.json`);
  await writeFile(mapFile, JSON.stringify(bucketMap));
  const ranges = BUNDLED_RANGE_FILES;
  const started = await startRedirectorProcess({
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_PORT: '0',
      UPSTREAM_REGISTRY_ENDPOINT: world.upstream,
      UPSTREAM_REGISTRY_PATH: upstreamPathSetting(world.upstreamPath),
      ...(world.signatureUpstream ? { SIGNATURE_UPSTREAM_ENDPOINT: world.signatureUpstream } : {}),
      DEFAULT_AWS_BASE_URL: bucketMap.default,
      INFO_URL: world.infoUrl,
      PRIVACY_URL: world.privacyUrl,
      ROUTING_SEMANTICS: world.semantics,
      BUCKET_MAP: mapFile,
      AWS_IP_RANGES: ranges.aws,
      GCP_IP_RANGES: ranges.gcp,
      AZURE_IP_RANGES: ranges.azure,
      LOG_LEVEL: 'info',
      ...(options.env ?? {}),
    },
    timeoutMs: 30_000,
  });
  const target: TargetDescription = {
    ...world,
    name: `${world.name}+${options.name}`,
    url: started.url,
    bucketMap,
    vantages: world.vantages.map((v) => ({ ...v, url: null })),
  };
  return { started, target };
}
