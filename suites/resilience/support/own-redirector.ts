/**
 * A redirector of this suite's own in the stack's world (same upstream, buckets, range data), started with the
 * environment a check needs: range refresh sources, slow-client timeouts, a process to SIGTERM. Configured only by
 * its documented environment (docs/configuration.md), like the stack's.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BucketMap, TargetDescription } from '../../../harness/src/index.js';
import { projectRangeFiles } from '../../../harness/src/run/project-paths.js';
import { descendantProcesses } from '../../../harness/src/stack/process-tree.js';
import { startRedirectorProcess, type StartedRedirector } from '../../../harness/src/stack/redirector-process.js';

export interface OwnRedirector {
  url: string;
  adminUrl: string;
  /** the node process (the watchdog shell's child) */
  pid: number;
  /** the launcher's handle: its `exited` promise and output lines */
  process: StartedRedirector['process'];
  /** the world's description with this redirector's URL */
  target: TargetDescription;
  stop(): Promise<void>;
}

export async function startOwnRedirector(
  world: TargetDescription,
  dir: string,
  options: { name: string; env?: Record<string, string>; bucketMap?: BucketMap },
): Promise<OwnRedirector> {
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
      LOG_LEVEL: 'warn',
      ...(options.env ?? {}),
    },
    timeoutMs: 30_000,
  });
  const node = (await descendantProcesses(started.process.pid)).find((p) => /node/.test(p.command));
  if (!node) {
    await started.stop();
    throw new Error(`no node process below the redirector watchdog ${started.process.pid}`);
  }
  return {
    url: started.url,
    adminUrl: started.adminUrl,
    pid: node.pid,
    process: started.process,
    target: { ...world, name: `${world.name}+${options.name}`, url: started.url, bucketMap, vantages: world.vantages.map((v) => ({ ...v, url: null })) },
    stop: () => started.stop(),
  };
}
