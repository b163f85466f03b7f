/**
 * Resident memory of the built redirector with the full range tables loaded and ENTRIES (default 100,000) blob
 * decisions in its positive cache.
 *
 *   npx tsx bench/redirector-memory.ts        (ENTRIES=100000; SKIP_BUILD=1 to reuse dist/)
 *
 * Method: start `node dist/redirector/src/main.js` against a local fake bucket that has every blob; read VmRSS from
 * /proc/<pid>/status after start; then send ENTRIES blob requests with distinct sha256 digests from an AWS client
 * (50 at a time, undici), so each one HEADs the bucket once and adds one positive-cache entry; check the
 * redirector's own gauge says the cache holds them; read VmRSS again (and VmHWM, the peak). RSS is what a container
 * memory limit (Cloud Run: 512 MiB in production) counts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { listen } from '../redirector/src/server/node-adapter.js';
import { redirectorNodeFlags } from '../harness/src/stack/redirector-node-flags.js';
import { build, spawnRedirector } from './redirector-process.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const CONCURRENCY = 50;
const SETTLE_S = Number(process.env.SETTLE_S ?? 30);
/** node flags for the redirector: by default those it ships with (redirector/Containerfile); NODE_ARGS= for none */
const NODE_ARGS = process.env.NODE_ARGS === undefined ? redirectorNodeFlags() : process.env.NODE_ARGS.split(' ').filter((a) => a !== '');

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  build();
  const tmp = mkdtempSync(join(tmpdir(), 'redirector-memory-'));
  const bucket = await listen(() => ({ status: 200, headers: ['Content-Length', '0'], body: '' }), { host: '127.0.0.1', port: 0 });
  const agent = new Agent({ connections: CONCURRENCY });
  let red: Awaited<ReturnType<typeof spawnRedirector>> | undefined;
  try {
    const map = join(tmp, 'bucket-map.json');
    writeFileSync(map, JSON.stringify({ default: `${bucket.url}/default`, regions: { 'eu-west-3': `${bucket.url}/prod-registry-k8s-io-eu-west-3` } }));
    red = await spawnRedirector({ BUCKET_MAP: map, ALLOW_UNMAPPED_REGIONS: '*', BLOB_CACHE_POSITIVE_MAX: String(Math.max(ENTRIES, 100_000)) }, join(tmp, 'redirector.log'), NODE_ARGS);
    const pid = red.child.pid!;
    const atStart = memory(pid);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ENTRIES; i = next++) {
        const digest = 'sha256:' + createHash('sha256').update(String(i)).digest('hex');
        const res = await request(`${red!.url}/v2/pause/blobs/${digest}`, { dispatcher: agent, headers: { 'x-forwarded-for': '35.180.1.1, 130.211.0.1' } });
        await res.body.dump();
        if (res.statusCode !== 307 || !String(res.headers.location).includes('prod-registry-k8s-io-eu-west-3')) throw new Error(`request ${i}: ${res.statusCode} ${res.headers.location}`);
      }
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - t) / 1000;
    const metrics = await (await request(`${red.adminUrl}/metrics`)).body.text();
    const cached = Number(/redirector_blob_cache_entries\{cache="positive"\} (\d+)/.exec(metrics)![1]);
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
    const heapUsed = gauge('nodejs_heap_size_used_bytes');
    const heapTotal = gauge('nodejs_heap_size_total_bytes');
    const external = gauge('nodejs_external_memory_bytes');
    const filled = memory(pid);
    // V8's memory reducer runs full GCs and returns pages once allocation has been quiet for a while
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const settled = memory(pid);
    const after = await (await request(`${red.adminUrl}/metrics`)).body.text();
    const settledHeap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(after)?.[1] ?? NaN);
    const settledHeapTotal = Number(/^nodejs_heap_size_total_bytes (\S+)/m.exec(after)?.[1] ?? NaN);
    process.stdout.write(
      [
        '| state | RSS MiB | peak RSS MiB |',
        '|---|---|---|',
        `| ready, full tables, empty caches | ${mib(atStart.rss)} | ${mib(atStart.hwm)} |`,
        `| after ${ENTRIES} distinct blob decisions (${cached} cached) | ${mib(filled.rss)} | ${mib(filled.hwm)} |`,
        `| ${SETTLE_S} s later, idle | ${mib(settled.rss)} | ${mib(settled.hwm)} |`,
        `(${ENTRIES} requests, each with one HEAD, in ${seconds.toFixed(1)} s; V8 heap used ${mib(heapUsed)} of ${mib(heapTotal)} MiB right after, ${mib(settledHeap)} of ${mib(settledHeapTotal)} MiB when settled; external ${mib(external)} MiB)`,
      ].join('\n') + '\n',
    );
    process.stdout.write(JSON.stringify({ bench: 'redirector-memory', entries: ENTRIES, cached, rssStart: atStart.rss, rssFilled: filled.rss, rssSettled: settled.rss, peak: settled.hwm, settledHeap, settledHeapTotal, heapUsed, heapTotal, external }) + '\n');
  } finally {
    await red?.stop();
    await agent.close();
    await bucket.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
