/**
 * Pull-and-verify throughput: our OCI client against `skopeo copy`, pulling the same large image through the same
 * local stack, in the same run (the goal: ours ≤ 0.5 × skopeo, docs/performance.md).
 *
 *   npx tsx bench/pull-throughput.ts            (BIG_LAYER_MIB=256 ROUNDS=5; VANTAGE=aws-us-east-1)
 *
 * Method:
 *  - one local stack (process engine) with the fixture set's large layer at BIG_LAYER_MIB (an uncompressed tar layer of
 *    deterministic, incompressible bytes); the image `big:v1` is one manifest, one config and that layer;
 *  - both clients pull through the edge port of VANTAGE, so each request takes the whole route: edge (stamps the
 *    vantage's X-Forwarded-For) → redirector (307) → the faults front → s3rver for the layer (aws-us-east-1's bucket
 *    holds it per fixtures/mirror-plan.json) and the upstream registry for the manifest;
 *  - ours: `pullImage` (manifest → config and layer), every byte hashed (sha256) and sized as it streams, bytes
 *    discarded after hashing; skopeo 1.9: `skopeo copy --src-tls-verify=false docker://<edge>/big:v1 oci:<tmp>:v1`,
 *    which verifies digests and writes the blobs to a tmpfs-backed temp dir (cleaned every round);
 *  - the two take turns for ROUNDS rounds after one warm-up each; medians and bests are reported, and the verdict on
 *    the goal (ours ≤ 0.5× skopeo's time) from the rounds' ratios, with an interval for their median (goal-verdict.ts).
 * Output: a markdown table (recorded in docs/performance.md), the verdict line and one JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, createOciClient, pullImage } from '../harness/src/index.js';
import { goalVerdict, median, verdictLine } from './goal-verdict.js';

const BIG_LAYER_MIB = Number(process.env.BIG_LAYER_MIB ?? 256);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const VANTAGE = process.env.VANTAGE ?? 'aws-us-east-1';

/** the goal (docs/performance.md): our pull and verify takes at most this share of skopeo copy's time */
const GOAL_RATIO = 0.5;
const best = (xs: number[]) => Math.min(...xs);

async function main(): Promise<void> {
  if (spawnSync('skopeo', ['--version']).status !== 0)
    throw new Error('skopeo is not installed (apt-get install skopeo)');
  process.stderr.write(`starting the local stack with a ${BIG_LAYER_MIB} MiB layer...\n`);
  const stack = await startStack({ bigLayerMiB: BIG_LAYER_MIB, log: (m) => process.stderr.write(`  ${m}\n`) });
  try {
    const vantage = stack.target.vantages.find((v) => v.name === VANTAGE);
    if (!vantage?.url) throw new Error(`vantage ${VANTAGE} has no edge URL`);
    const image = stack.target.images.find((i) => i.ref === 'big:v1');
    if (!image) throw new Error('the fixture set has no big:v1');
    const edgeHost = new URL(vantage.url).host;

    const ours = async (): Promise<{ ms: number; bytes: number }> => {
      const client = createOciClient({ baseUrl: vantage.url! });
      const r = await pullImage(client, 'big', 'v1', { expected: { digest: image.digest } });
      if (!r.ok) throw new Error(`our pull failed: ${r.errors.map((e) => e.message).join('; ')}`);
      return { ms: r.durationMs, bytes: r.bytes };
    };
    // The stack's edge and faults front run in this process: skopeo must be awaited, never spawnSync'd.
    const skopeo = async (): Promise<{ ms: number }> => {
      const dir = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'rc-bench-skopeo-'));
      try {
        const t = performance.now();
        const child = spawn(
          'skopeo',
          ['copy', '--quiet', '--src-tls-verify=false', `docker://${edgeHost}/big:v1`, `oci:${dir}:v1`],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (c) => (stderr += c));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        const ms = performance.now() - t;
        if (code !== 0) throw new Error(`skopeo copy failed (${code}): ${stderr}`);
        return { ms };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    await ours();
    await skopeo();
    const oursMs: number[] = [];
    const skopeoMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const o = await ours();
      oursMs.push(o.ms);
      bytes = o.bytes;
      skopeoMs.push((await skopeo()).ms);
      process.stderr.write(`  round ${i + 1}: ours ${o.ms.toFixed(0)} ms, skopeo ${skopeoMs[i]!.toFixed(0)} ms\n`);
    }
    const mb = bytes / 1e6;
    const rows = [
      ['client', 'median ms', 'best ms', 'median MB/s'],
      [
        'registry-canary pullImage',
        median(oursMs).toFixed(0),
        best(oursMs).toFixed(0),
        (mb / (median(oursMs) / 1000)).toFixed(0),
      ],
      [
        'skopeo copy',
        median(skopeoMs).toFixed(0),
        best(skopeoMs).toFixed(0),
        (mb / (median(skopeoMs) / 1000)).toFixed(0),
      ],
    ];
    process.stdout.write(
      `\nPull and verify big:v1 (${mb.toFixed(0)} MB of blobs) through ${VANTAGE}, ${ROUNDS} rounds\n\n`,
    );
    process.stdout.write(`| ${rows[0]!.join(' | ')} |\n|${rows[0]!.map(() => '---').join('|')}|\n`);
    for (const r of rows.slice(1)) process.stdout.write(`| ${r.join(' | ')} |\n`);
    const ratio = median(oursMs) / median(skopeoMs);
    // the two took turns, so each round's pair saw the same conditions: the verdict reads the rounds' ratios
    const goal = goalVerdict(
      oursMs.map((ms, i) => ms / skopeoMs[i]!),
      GOAL_RATIO,
      'at-most',
    );
    process.stdout.write(`\nratio ours/skopeo (medians): ${ratio.toFixed(2)}; per round, ${verdictLine(goal)}\n`);
    process.stdout.write(`${JSON.stringify({ bench: 'pull-throughput', bytes, oursMs, skopeoMs, ratio, goal })}\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`pull-throughput: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
