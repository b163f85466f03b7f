/**
 * A second redirector in an existing local stack's world: same upstream, buckets and range data, its own process
 * and environment (a mutant, or a bucket map pointing through a fault front). The description it returns is the
 * stack's with `url` changed, which is exactly the contract of issue 3 ("any redirector can be tested against the
 * same world by changing url"). Its vantages lose their edge URLs: the edge ports still front the stack's own
 * redirector, so checks that need one must say "not applicable" rather than test the wrong process.
 *
 * The environment follows the redirector's documented contract (docs/configuration.md), never its code.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BucketMap, TargetDescription } from '../../harness/src/index.js';
import { projectRangeFiles } from '../../harness/src/run/project-paths.js';
import { startRedirectorProcess } from '../../harness/src/stack/redirector-process.js';

export interface SecondRedirector {
  target: TargetDescription;
  stop(): Promise<void>;
}

export async function startSecondRedirector(
  world: TargetDescription,
  dir: string,
  options: { env?: Record<string, string>; bucketMap?: BucketMap; name: string },
): Promise<SecondRedirector> {
  const bucketMap = options.bucketMap ?? world.bucketMap;
  const mapFile = join(dir, `bucket-map-${options.name}.json`);
  await writeFile(mapFile, JSON.stringify(bucketMap));
  const ranges = projectRangeFiles();
  const started = await startRedirectorProcess({
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_PORT: '0',
      UPSTREAM_REGISTRY_ENDPOINT: world.upstream,
      // "/" rather than "": empty means unset, which restores production's prefix (docs/configuration.md)
      UPSTREAM_REGISTRY_PATH: world.upstreamPath === '' ? '/' : world.upstreamPath,
      ...(world.signatureUpstream ? { SIGNATURE_UPSTREAM_ENDPOINT: world.signatureUpstream } : {}),
      DEFAULT_AWS_BASE_URL: bucketMap.default,
      INFO_URL: world.infoUrl,
      PRIVACY_URL: world.privacyUrl,
      ROUTING_SEMANTICS: world.semantics,
      BUCKET_MAP: mapFile,
      AWS_IP_RANGES: ranges.aws,
      GCP_IP_RANGES: ranges.gcp,
      AZURE_IP_RANGES: ranges.azure,
      LOG_LEVEL: 'info', // the "listening" line the launcher waits for is an info line
      ...(options.env ?? {}),
    },
    timeoutMs: 30_000,
  });
  return {
    target: { ...world, name: `${world.name}+${options.name}`, url: started.url, bucketMap, vantages: world.vantages.map((v) => ({ ...v, url: null })) },
    stop: () => started.stop(),
  };
}
