/**
 * Extra content on the local stack, seeded the way docs/local-stack.md "Seeding extra content" tells a developer to
 * ("seeding extra content must be possible with standard tools ... nothing assumes that only the built-in
 * fixtures exist"):
 *
 * 1. an image that is none of the built-in fixtures is generated as an OCI layout in a temp dir (deterministic);
 * 2. the real `skopeo copy` pushes it into the description's `upstream`;
 * 3. its blobs go into some buckets with @aws-sdk/client-s3 PutObject at `containers/images/<digest>`, deliberately
 *    unevenly (a blob in several buckets, one in a single bucket, one in none), so routes differ by vantage;
 * 4. the description gets the image in `images` and those blobs in the mirror plan (withExtraContent);
 * 5. the harness checks run against it (runChecks, and the built CLI's `run --target-config FILE`).
 *
 * The converse proves the suites read `images` and the plan rather than the fixture set: a plan that claims a
 * bucket holds a blob it lacks, and an image whose manifest the upstream does not have, turn the checks red.
 *
 * Needs `npm run build` (the stack's redirector and the CLI run from dist/), Debian's docker-registry (the embedded
 * upstream is read-only) and skopeo. Outside CI a missing tool skips the file; with CI=true it fails it.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrorChecks } from '../mirror/mirror.suite.js';
import { integrityChecks } from '../integrity/integrity.suite.js';
import { routingChecks } from '../routing/routing.suite.js';
import { conformanceChecks } from '../conformance/conformance.suite.js';
import {
  isCi,
  locateTool,
  runTool,
  packageRoot,
  keystreamBytes,
  OciLayoutWriter,
  storedGzip,
  buildTar,
  createOciClient,
  MediaType,
  digestOf,
  runChecks,
  selectVantages,
  distEntry,
  DOCKER_REGISTRY_BIN,
  resolveBucket,
  withExtraContent,
  descendantProcesses,
  listBucketKeys,
  s3rverClient,
  startStack,
  type StartedStack,
  type CheckResult,
  type RunReport,
  type MirrorPlan,
  type TargetDescription,
} from '../../harness/src/index.js';

const REPO = 'extra/canary-hello';
const TAG = 'v1';
const REF = `${REPO}:${TAG}`;
/** an image the description lists but nobody pushed */
const GHOST_REF = 'extra/canary-ghost:v1';
/** a vantage per route: us-east-1's bucket, eu-west-2's bucket, a bucket with none of it, the default base, GCP */
const VANTAGES = ['aws-us-east-1', 'aws-eu-west-2', 'aws-eu-west-1', 'internet-v4', 'gcp-v4'];

const skopeo = await locateTool('skopeo');
const haveRegistry = existsSync(DOCKER_REGISTRY_BIN);

interface ExtraImage {
  layout: string;
  digest: string;
  config: string;
  /** three layers: [in several buckets, in one bucket, in none] */
  layers: [string, string, string];
}

/**
 * A small single-platform OCI image, the same bytes on every run: a gzip layer, a larger gzip layer (so Range
 * checks have something over 2 KiB), and an uncompressed one.
 */
async function writeExtraImage(dir: string): Promise<ExtraImage> {
  const w = new OciLayoutWriter(dir);
  const tars = [
    buildTar([
      { name: 'canary', type: 'dir' },
      { name: 'canary/hello.txt', type: 'file', data: Buffer.from('hello from content seeded by hand\n') },
    ]),
    buildTar([{ name: 'canary/data.bin', type: 'file', data: keystreamBytes('extra-content/data.bin', 24 * 1024) }]),
    buildTar([{ name: 'canary/plain.txt', type: 'file', data: Buffer.from('an uncompressed layer\n') }]),
  ];
  const layers = [
    await w.putBlob(storedGzip(tars[0]!), MediaType.OciLayerGzip),
    await w.putBlob(storedGzip(tars[1]!), MediaType.OciLayerGzip),
    await w.putBlob(tars[2]!, MediaType.OciLayer),
  ];
  const config = await w.putJson(
    {
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['/canary/hello.txt'] },
      rootfs: { type: 'layers', diff_ids: tars.map((t) => digestOf(t)) },
    },
    MediaType.OciConfig,
  );
  const manifest = await w.putJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers },
    MediaType.OciManifest,
  );
  w.addManifest(manifest, TAG);
  await w.finish();
  return {
    layout: dir,
    digest: manifest.digest,
    config: config.digest,
    layers: [layers[0]!.digest, layers[1]!.digest, layers[2]!.digest],
  };
}

const byId = (report: RunReport, id: string): CheckResult => {
  const r = report.results.find((x) => x.id === id);
  if (!r)
    throw new Error(
      `no result ${id} (have ${report.results.length}: ${report.results
        .slice(0, 5)
        .map((x) => x.id)
        .join(', ')} ...)`,
    );
  return r;
};
const red = (report: RunReport) =>
  report.results
    .filter((r) => r.status === 'fail' || r.status === 'error')
    .map((r) => `${r.id}: ${r.status} ${r.failureClass ?? ''} ${r.message ?? ''}`);

interface Coverage {
  present: number;
  total: number;
  gaps: string[];
  missing: string[];
  unplanned: string[];
}

describe
  .skipIf(!isCi() && (!skopeo || !haveRegistry))
  .sequential('extra content seeded with skopeo and the S3 API', () => {
    let stack: StartedStack;
    let baseline: Set<number>;
    let scratch: string;
    let image: ExtraImage;
    let extended: TargetDescription;
    /** bucket (as resolveBucket names it) → the digests put there */
    let seeded: Record<string, string[]>;

    /** under CI=true a missing tool fails every test of this file (and starts nothing), rather than skipping it */
    let missing: string | null = null;
    const ready = () => {
      if (missing) throw new Error(missing);
    };

    beforeAll(async () => {
      if (!skopeo) missing = 'skopeo is required when CI=true but is not installed (apt-get install skopeo)';
      else if (!haveRegistry)
        missing = `${DOCKER_REGISTRY_BIN} is required when CI=true (apt-get install docker-registry): the embedded upstream is read-only`;
      if (missing) return;
      if (!existsSync(distEntry('redirector/src/main.js')))
        throw new Error('dist/ is missing: run `npm run build` before the integration tests');
      baseline = new Set((await descendantProcesses()).map((p) => p.pid));
      scratch = await mkdtemp(join(tmpdir(), 'extra-content-int-'));
      const [started, built] = await Promise.all([
        startStack({ upstream: 'docker-registry', bigLayerMiB: 8, log: (m) => process.stderr.write(`[stack] ${m}\n`) }),
        writeExtraImage(join(scratch, 'layout')),
      ]);
      stack = started;
      image = built;

      // 2. skopeo copy into the description's upstream (+ upstreamPath)
      const t = stack.target;
      const prefix = t.upstreamPath.replace(/^\/+|\/+$/g, '');
      const dest = `${new URL(t.upstream).host}${prefix ? `/${prefix}` : ''}/${REF}`;
      const digestFile = join(scratch, 'digest');
      const copy = await runTool(
        skopeo!,
        [
          '--insecure-policy',
          'copy',
          '--quiet',
          '--preserve-digests',
          '--dest-tls-verify=false',
          '--digestfile',
          digestFile,
          `oci:${image.layout}:${TAG}`,
          `docker://${dest}`,
        ],
        {
          timeoutMs: 60_000,
        },
      );
      expect(copy.exitCode, `${copy.command}\n${copy.stderr}`).toBe(0);
      expect((await readFile(digestFile, 'utf8')).trim()).toBe(image.digest);

      // 3. blobs into buckets with the S3 API, as the stack seeds them (credentials from the description)
      const [shared, single] = image.layers;
      seeded = {
        'us-east-1': [image.config, shared],
        default: [image.config, shared],
        'eu-west-2': [image.config, single],
      };
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint: t.s3!.endpoint,
        forcePathStyle: true,
        credentials: (t.stack as { s3Credentials: { accessKeyId: string; secretAccessKey: string } }).s3Credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      try {
        for (const [bucket, digests] of Object.entries(seeded)) {
          for (const digest of digests) {
            const body = await readFile(join(image.layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
            await s3.send(
              new PutObjectCommand({
                Bucket: resolveBucket(t, bucket).name,
                Key: `containers/images/${digest}`,
                Body: body,
                ContentType: 'application/octet-stream',
              }),
            );
          }
        }
      } finally {
        s3.destroy();
      }

      // 4. the description: the image listed, its blobs in the plan
      extended = withExtraContent(t, {
        images: [{ ref: REF, digest: image.digest, kind: ['oci-manifest', 'single-platform', 'extra'] }],
        buckets: seeded,
      });
    }, 180_000);

    afterAll(async () => {
      await stack?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('the upstream serves the pushed image under its ref; the extended plan lists exactly what each bucket holds', async () => {
      ready();
      const upstream = createOciClient({ baseUrl: stack.target.upstream });
      const m = await upstream.getManifest(REPO, TAG);
      expect(m.digest).toBe(image.digest);
      const s3 = await s3rverClient(stack.buckets.s3rverUrl);
      try {
        const plan = extended.mirrorPlan as MirrorPlan;
        for (const [base, digests] of Object.entries(plan.buckets)) {
          const bucket = resolveBucket(extended, base).name;
          const keys = await listBucketKeys(s3, bucket, 'containers/images/');
          expect(keys.map((k) => k.slice('containers/images/'.length)).sort(), bucket).toEqual([...digests].sort());
        }
      } finally {
        s3.destroy();
      }
    });

    it('runChecks on the extended description: the extra image is pulled, routed and audited like a fixture, and passes', async () => {
      ready();
      const target = selectVantages(extended, VANTAGES.join(','));
      const checks = [
        ...integrityChecks(target, { images: [REF], range: false }),
        ...mirrorChecks(target),
        ...conformanceChecks(target).filter((c) =>
          /\/(manifest-get-every-image|manifest-head-every-image|docker-content-digest-manifests)$/.test(c.id),
        ),
      ];
      const report = await runChecks({ target, checks, concurrency: 4 });
      expect(red(report)).toEqual([]);
      expect(report.verdict.exitCode).toBe(0);

      // every first hop of the pull judged by the oracle, which expects exactly the routes the seeding made
      const [shared, single, nowhere] = image.layers;
      const routes = (v: string) => byId(report, `integrity/${REF}@${v}`).details?.routes;
      expect(routes('aws-us-east-1')).toEqual({ upstream: 1, 'blob-bucket-hit': 2, 'blob-bucket-miss': 2 });
      expect(routes('aws-eu-west-2')).toEqual({ upstream: 1, 'blob-bucket-hit': 2, 'blob-bucket-miss': 2 });
      expect(routes('internet-v4')).toEqual({ upstream: 1, 'blob-bucket-hit': 2, 'blob-bucket-miss': 2 });
      expect(routes('aws-eu-west-1')).toEqual({ upstream: 1, 'blob-bucket-miss': 4 });
      expect(routes('gcp-v4')).toEqual({ upstream: 1, 'blob-gcp-client': 4 });
      for (const v of VANTAGES) expect(byId(report, `integrity/${REF}@${v}`).status, v).toBe('pass');

      // the mirror audit covered the extra blobs in every bucket: present where put, a planned gap elsewhere
      const coverage = (key: string) => byId(report, `mirror/bucket-${key}`).details?.coverage as Coverage;
      const builtIn = coverage('us-east-1').total - 4;
      expect(builtIn).toBeGreaterThan(0);
      for (const key of ['us-east-1', 'eu-west-2', 'eu-west-1', 'default', 'me-central-1'])
        expect(coverage(key).total, key).toBe(builtIn + 4);
      expect(coverage('us-east-1').gaps).toEqual(expect.arrayContaining([single, nowhere]));
      expect(coverage('us-east-1').gaps).not.toContain(shared);
      expect(coverage('eu-west-2').gaps).toEqual(expect.arrayContaining([shared, nowhere]));
      expect(coverage('eu-west-2').gaps).not.toContain(single);
      expect(coverage('eu-west-1').gaps).toEqual(expect.arrayContaining([image.config, shared, single, nowhere]));
      for (const key of ['us-east-1', 'eu-west-2', 'default']) expect(coverage(key).unplanned, key).toEqual([]);
      expect(byId(report, 'conformance/manifest-get-every-image').status).toBe('pass');
    });

    it('a description listing only the extra image: every blob probe of the routing suite uses its blobs, and passes', async () => {
      ready();
      const own = new Set([image.config, ...image.layers]);
      const plan = extended.mirrorPlan as MirrorPlan;
      const only: TargetDescription = {
        ...selectVantages(extended, VANTAGES.join(',')),
        images: extended.images.filter((i) => i.ref === REF),
        // the plan as ground truth for these images: only their blobs (the fixtures' are still in the buckets, unaudited)
        mirrorPlan: {
          buckets: Object.fromEntries(Object.entries(plan.buckets).map(([b, ds]) => [b, ds.filter((d) => own.has(d))])),
        },
      };
      const checks = [
        ...routingChecks(only, {
          kinds: ['manifest-by-tag', 'blob-in-bucket', 'blob-absent-from-bucket', 'blob-upstream-only'],
        }),
        ...integrityChecks(only),
        ...mirrorChecks(only),
      ];
      const report = await runChecks({ target: only, checks, concurrency: 4 });
      expect(red(report)).toEqual([]);
      expect(report.verdict.exitCode).toBe(0);
      const probed = report.results.filter((r) => /^routing\/blob-/.test(r.id) && r.status === 'pass');
      // eu-west-1 holds none of it: no blob-in-bucket probe exists there (not applicable); every other probe ran
      expect(probed).toHaveLength(VANTAGES.length * 3 - 1);
      for (const r of probed) {
        const url = r.hops[0]!.url;
        expect(url, r.id).toContain(`/v2/${REPO}/blobs/`);
        expect(own.has(url.slice(url.lastIndexOf('/') + 1)), r.id).toBe(true);
      }
      // the one blob no bucket holds is what "upstream only" probes, not a synthetic digest
      expect(byId(report, 'routing/blob-upstream-only@aws-us-east-1').hops[0]!.url).toMatch(
        new RegExp(`/blobs/${image.layers[2]}$`),
      );
      expect(byId(report, 'routing/blob-in-bucket@aws-eu-west-1').status).toBe('not-applicable');
      expect(byId(report, 'routing/manifest-by-tag@internet-v4').hops[0]!.url).toMatch(
        new RegExp(`/v2/${REPO}/manifests/${TAG}$`),
      );
      expect(byId(report, `integrity/range-resume@aws-eu-west-2`).details?.blob).toBe(image.layers[1]);
    });

    it('the built CLI runs the suites from the written description file (run --target-config) and is green', async () => {
      ready();
      const file = join(scratch, 'target-extra.json');
      await writeFile(file, `${JSON.stringify(extended, null, 2)}\n`);
      const reportDir = join(scratch, 'report');
      const run = await runTool(
        process.execPath,
        [
          join(packageRoot(), 'bin', 'registry-canary.js'),
          'run',
          '--target-config',
          file,
          '--suite',
          'integrity,mirror',
          '--vantage',
          'aws-us-east-1,gcp-v4,internet-v4',
          '--report',
          reportDir,
        ],
        { timeoutMs: 120_000 },
      );
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
      const results = JSON.parse(await readFile(join(reportDir, 'results.json'), 'utf8')) as RunReport;
      for (const v of ['aws-us-east-1', 'gcp-v4', 'internet-v4'])
        expect(byId(results, `integrity/${REF}@${v}`).status).toBe('pass');
      expect(byId(results, 'mirror/bucket-us-east-1').status).toBe('pass');
    });

    it('the converse: a blob the plan puts in a bucket that lacks it, and a listed image the upstream lacks, turn those checks red', async () => {
      ready();
      const [, single] = image.layers;
      const ghostDigest = digestOf(Buffer.from('an image nobody pushed\n'));
      const broken = withExtraContent(selectVantages(extended, VANTAGES.join(',')), {
        images: [{ ref: GHOST_REF, digest: ghostDigest, kind: ['oci-manifest', 'single-platform'] }],
        // eu-west-1 never got this layer
        buckets: { 'eu-west-1': [single] },
      });
      const checks = [
        ...integrityChecks(broken, { images: [REF, GHOST_REF], range: false }),
        ...mirrorChecks(broken),
        ...conformanceChecks(broken).filter((c) => c.id.endsWith('/manifest-get-every-image')),
      ];
      const report = await runChecks({ target: broken, checks, concurrency: 4 });
      expect(report.verdict.exitCode).toBe(1);

      // the bucket the plan overstates: the mirror audit names the missing blob, and the pull through that region is
      // routed upstream where the oracle (trusting the plan) expects the bucket
      const eu = byId(report, 'mirror/bucket-eu-west-1');
      expect(eu).toMatchObject({ status: 'fail', failureClass: 'integrity' });
      expect((eu.details?.coverage as Coverage | undefined)?.missing).toEqual([single]);
      const pull = byId(report, `integrity/${REF}@aws-eu-west-1`);
      expect(pull).toMatchObject({ status: 'fail', failureClass: 'routing' });
      expect(pull.message).toContain(single);

      // the image the upstream does not have: every pull of it fails, the manifest check fails, and the mirror coverage
      // says its blobs went unaudited
      for (const v of VANTAGES) expect(byId(report, `integrity/${GHOST_REF}@${v}`).status, v).toBe('fail');
      expect(byId(report, `integrity/${GHOST_REF}@internet-v4`).message).toMatch(/404/);
      const manifests = byId(report, 'conformance/manifest-get-every-image');
      expect(manifests.status).toBe('fail');
      expect(manifests.message).toContain(`extra/canary-ghost:${ghostDigest}`);
      const coverage = byId(report, 'mirror/coverage');
      expect(coverage).toMatchObject({ status: 'fail', failureClass: 'harness' });
      expect(coverage.message).toContain(GHOST_REF);

      // what the description gets right stays green
      for (const v of ['aws-us-east-1', 'aws-eu-west-2', 'internet-v4', 'gcp-v4'])
        expect(byId(report, `integrity/${REF}@${v}`).status, v).toBe('pass');
      expect(byId(report, 'mirror/bucket-us-east-1').status).toBe('pass');
    });

    it('stop() leaves no process and no temp dir behind', async () => {
      ready();
      const stopped = await stack.stop();
      expect(stopped.failures).toEqual([]);
      const left = (await descendantProcesses()).filter((p) => !baseline.has(p.pid));
      expect(left.map((p) => `${p.pid} ${p.command}`)).toEqual([]);
      expect(existsSync(stack.tempDir)).toBe(false);
    });
  });
