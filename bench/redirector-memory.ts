/**
 * Resident memory of the built redirector with the full range tables loaded and ENTRIES (default 100,000) blob
 * decisions in its positive cache.
 *
 *   npx tsx bench/redirector-memory.ts        (ENTRIES=100000 RUNS=5 SETTLE_S=30; NODE_ARGS= as the throughput
 *                                             benchmark; SKIP_BUILD=1 to reuse dist/)
 *
 * Method: start `node dist/redirector/src/main.js` against a local fake bucket that has every blob; read VmRSS from
 * /proc/<pid>/status after start; then send ENTRIES blob requests with distinct sha256 digests from an AWS client
 * (50 at a time, undici), so each one HEADs the bucket once and adds one positive-cache entry; check the
 * redirector's own gauge says the cache holds them; read VmRSS again (and VmHWM, the peak). RSS is what a container
 * memory limit (Cloud Run: 512 MiB in production) counts. Then SETTLE_S seconds idle, and RSS once more. RUNS fresh
 * redirectors one after the other (the figure moves by a few MiB from run to run), and the verdict on the goal
 * (≤ 150 MB after the decisions) with an interval for the median run (goal-verdict.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { listenNodeHttp } from '../redirector/src/server/node-adapter.js';
import { redirectorNodeFlags } from '../harness/src/index.js';
import { build, spawnRedirector } from './redirector-process.js';
import { goalVerdict, verdictLine } from './goal-verdict.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const CONCURRENCY = 50;
const SETTLE_S = Number(process.env.SETTLE_S ?? 30);
/** fresh redirectors measured one after the other: 5 are the fewest that can decide the goal (goal-verdict.ts) */
const RUNS = Number(process.env.RUNS ?? 5);
/** the goal (docs/performance.md): RSS with the full tables and 100k cached entries, in MB (10^6 bytes) */
const GOAL_MB = 150;
/** node flags for the redirector: by default those it ships with (redirector/Containerfile); NODE_ARGS= for none */
const NODE_ARGS =
  process.env.NODE_ARGS === undefined
    ? redirectorNodeFlags()
    : process.env.NODE_ARGS.split(' ').filter((a) => a !== '');

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);

interface MemoryRun {
  cached: number;
  seconds: number;
  /** RSS in bytes: ready with empty caches, right after the decisions, SETTLE_S seconds later */
  start: number;
  filled: number;
  settled: number;
  /** the highest RSS of the run: VmHWM, or an RSS read above it (the kernel updates VmHWM lazily) */
  peak: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  settledHeap: number;
  settledHeapTotal: number;
}

/** One fresh redirector: start, fill its positive cache with ENTRIES decisions, let it settle; its figures. */
async function measureOnce(bucketUrl: string, tmp: string, run: number): Promise<MemoryRun> {
  const agent = new Agent({ connections: CONCURRENCY });
  let red: Awaited<ReturnType<typeof spawnRedirector>> | undefined;
  try {
    const map = join(tmp, 'bucket-map.json');
    writeFileSync(
      map,
      JSON.stringify({
        default: `${bucketUrl}/default`,
        regions: { 'eu-west-3': `${bucketUrl}/prod-registry-k8s-io-eu-west-3` },
      }),
    );
    red = await spawnRedirector(
      { BUCKET_MAP: map, ALLOW_UNMAPPED_REGIONS: '*', BLOB_CACHE_POSITIVE_MAX: String(Math.max(ENTRIES, 100_000)) },
      join(tmp, `redirector-${run}.log`),
      NODE_ARGS,
    );
    const pid = red.child.pid!;
    const start = memory(pid).rss;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ENTRIES; i = next++) {
        const digest = 'sha256:' + createHash('sha256').update(String(i)).digest('hex');
        const res = await request(`${red!.url}/v2/pause/blobs/${digest}`, {
          dispatcher: agent,
          headers: { 'x-forwarded-for': '35.180.1.1, 130.211.0.1' },
        });
        await res.body.dump();
        if (res.statusCode !== 307 || !String(res.headers.location).includes('prod-registry-k8s-io-eu-west-3'))
          throw new Error(`request ${i}: ${res.statusCode} ${res.headers.location}`);
      }
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - t) / 1000;
    const metrics = await (await request(`${red.adminUrl}/metrics`)).body.text();
    const cached = Number(/redirector_blob_cache_entries\{cache="positive"\} (\d+)/.exec(metrics)![1]);
    if (cached < ENTRIES) throw new Error(`run ${run}: the positive cache holds ${cached} entries, not ${ENTRIES}`);
    const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
    const filled = memory(pid).rss;
    // V8's memory reducer runs full GCs and returns pages once allocation has been quiet for a while
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const last = memory(pid);
    const after = await (await request(`${red.adminUrl}/metrics`)).body.text();
    return {
      cached,
      seconds,
      start,
      filled,
      settled: last.rss,
      peak: Math.max(last.hwm, filled, last.rss),
      heapUsed: gauge(metrics, 'nodejs_heap_size_used_bytes'),
      heapTotal: gauge(metrics, 'nodejs_heap_size_total_bytes'),
      external: gauge(metrics, 'nodejs_external_memory_bytes'),
      settledHeap: gauge(after, 'nodejs_heap_size_used_bytes'),
      settledHeapTotal: gauge(after, 'nodejs_heap_size_total_bytes'),
    };
  } finally {
    await red?.stop();
    await agent.close();
  }
}

async function main(): Promise<void> {
  build();
  const tmp = mkdtempSync(join(tmpdir(), 'redirector-memory-'));
  const bucket = await listenNodeHttp(() => ({ status: 200, headers: ['Content-Length', '0'], body: '' }), {
    host: '127.0.0.1',
    port: 0,
  });
  try {
    const runs: MemoryRun[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const r = await measureOnce(bucket.url, tmp, run);
      process.stderr.write(
        `run ${run}: ${mib(r.filled)} MiB after ${r.cached} decisions, peak ${mib(r.peak)}, ${mib(r.settled)} when settled\n`,
      );
      runs.push(r);
    }
    const goal = goalVerdict(
      runs.map((r) => r.filled / 1e6),
      GOAL_MB,
      'at-most',
    );
    process.stdout.write(
      [
        `| run | ready, full tables, empty caches | after ${ENTRIES} distinct blob decisions | peak | ${SETTLE_S} s later, idle | V8 heap used / total after, then settled |`,
        '|---|---|---|---|---|---|',
        ...runs.map(
          (r, i) =>
            `| ${i + 1} | ${mib(r.start)} MiB | **${mib(r.filled)} MiB** (${(r.filled / 1e6).toFixed(1)} MB) | ${mib(r.peak)} MiB | ${mib(r.settled)} MiB | ${mib(r.heapUsed)} / ${mib(r.heapTotal)}, then ${mib(r.settledHeap)} / ${mib(r.settledHeapTotal)} MiB |`,
        ),
        `(${ENTRIES} requests a run, each with one HEAD, in ${runs.map((r) => r.seconds.toFixed(1)).join(', ')} s; external memory ${runs.map((r) => mib(r.external)).join(', ')} MiB)`,
        `RSS after the decisions, MB: ${verdictLine(goal, 1, 'runs')}`,
      ].join('\n') + '\n',
    );
    process.stdout.write(
      JSON.stringify({
        bench: 'redirector-memory',
        entries: ENTRIES,
        goal,
        runs: runs.map((r) => ({
          cached: r.cached,
          rssStart: r.start,
          rssFilled: r.filled,
          rssSettled: r.settled,
          peak: r.peak,
          heapUsed: r.heapUsed,
          heapTotal: r.heapTotal,
          settledHeap: r.settledHeap,
          settledHeapTotal: r.settledHeapTotal,
          external: r.external,
        })),
      }) + '\n',
    );
  } finally {
    await bucket.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
