/**
 * A real client against the embedded registry: skopeo (containers/image, Go) must see the recorded digests
 * (fixtures/images/digests.json) and be able to copy a multi-platform index with every platform.
 *
 * Needs skopeo. With CI=true a missing skopeo fails the test; otherwise it is skipped with the reason.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDigestsFile, type FixtureDigestRecord } from '../images/fixture-digests.js';
import { buildFixtureImages } from '../images/fixture-images.js';
import { startEmbeddedRegistry, type StartedEmbeddedRegistry } from './embedded-registry.js';

const run = promisify(execFile);
const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
const ci = process.env.CI === 'true';
const SKIP_REASON = 'skopeo is not installed (apt-get install skopeo); set CI=true to make this a failure';

let dir: string;
let registry: StartedEmbeddedRegistry | undefined;
let recorded: FixtureDigestRecord;

function recordedDigest(ref: string): string {
  const i = recorded.images.find((x) => x.ref === ref);
  if (i === undefined) throw new Error(`${ref} not in digests.json`);
  return i.digest;
}

beforeAll(async () => {
  if (SKOPEO === undefined) {
    if (ci) throw new Error(`CI=true: ${SKIP_REASON}`);
    return;
  }
  recorded = JSON.parse(await readFile(fixtureDigestsFile(), 'utf8')) as FixtureDigestRecord;
  dir = await mkdtemp(path.join(tmpdir(), 'skopeo-embedded-'));
  await buildFixtureImages(path.join(dir, 'root'), { bigLayerMiB: 1 });
  registry = await startEmbeddedRegistry({ root: path.join(dir, 'root') });
});

afterAll(async () => {
  await registry?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(SKOPEO === undefined && !ci)(
  `skopeo against the embedded registry${SKOPEO ? '' : ` — skipped: ${SKIP_REASON}`}`,
  () => {
    const host = () => new URL(registry!.url).host;

    it('skopeo inspect pause:3.10 reports the recorded digest', async () => {
      const { stdout } = await run(SKOPEO!, ['inspect', '--tls-verify=false', `docker://${host()}/pause:3.10`], {
        timeout: 60_000,
      });
      const out = JSON.parse(stdout) as { Digest: string; Architecture: string; Os: string };
      expect(out.Digest).toBe(recordedDigest('pause:3.10'));
      expect([out.Os, out.Architecture]).toEqual(['linux', 'amd64']);
    });

    it('skopeo inspect --raw of the Docker list and the nested OCI index returns the recorded bytes', async () => {
      for (const ref of ['docker-list:v1', 'e2e-test-images/busybox:1.36.1-1']) {
        const { stdout } = await run(SKOPEO!, ['inspect', '--raw', '--tls-verify=false', `docker://${host()}/${ref}`], {
          timeout: 60_000,
        });
        const { createHash } = await import('node:crypto');
        expect(`sha256:${createHash('sha256').update(stdout).digest('hex')}`, ref).toBe(recordedDigest(ref));
      }
    });

    it('skopeo copy --all of the multi-platform index verifies every blob', async () => {
      const out = path.join(dir, 'copy');
      await run(
        SKOPEO!,
        [
          'copy',
          '--all',
          '--insecure-policy',
          '--src-tls-verify=false',
          `docker://${host()}/e2e-test-images/busybox:1.36.1-1`,
          `oci:${out}:copied`,
        ],
        { timeout: 60_000 },
      );
      const index = JSON.parse(await readFile(path.join(out, 'index.json'), 'utf8')) as {
        manifests: { digest: string }[];
      };
      expect(index.manifests[0]!.digest).toBe(recordedDigest('e2e-test-images/busybox:1.36.1-1'));
    });
  },
);
