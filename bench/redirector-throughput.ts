/**
 * Redirects per second for a cached blob decision, against nginx `return 307` and a bare node:http server that
 * answers every request with a fixed 307, on this machine, in the same run, one worker each.
 *
 *   npx tsx bench/redirector-throughput.ts   (ROUNDS=5 DURATION_S=5 CONNECTIONS=50 NODE_ARGS= REDIRECTOR_ENV={};
 *                                             SKIP_BUILD=1 reuses dist/)
 *
 * Method:
 *  - the redirector is the built server (`node dist/redirector/src/main.js`), one process, its per-decision JSON log
 *    written to a file (logging stays on: it is part of every decision's cost);
 *  - the request is a blob GET from an AWS eu-west-3 client (`X-Forwarded-For: 35.180.1.1, 130.211.0.1`), so each
 *    request parses X-Forwarded-For, classifies the address over the full tables, validates the OCI path and digest,
 *    looks the bucket up and answers from the positive cache (one warm-up request fills it from a local fake bucket);
 *  - nginx 1.22 (`worker_processes 1`, `access_log off`, 127.0.0.1, config in a temp dir) answers `return 307` with a
 *    Location of the same length; the bare node server answers a fixed 307 with no routing at all;
 *  - load: wrk, 1 thread, CONNECTIONS keep-alive connections, DURATION_S seconds per round, after a 2 s warm-up; the
 *    three servers take turns for ROUNDS rounds and the median of each is reported. The machine has two cores: one
 *    for the server under test, one for wrk;
 *  - two figures per server: requests/s (wall clock), and requests per CPU-second the server process used (utime +
 *    stime from /proc/<pid>/stat, all threads; for nginx its single worker). The second is what a request costs, and
 *    stays meaningful when other jobs share the machine, which makes wall-clock rates swing by 2× from round to
 *    round; on an idle machine, with each server saturating its core, the two ratios agree.
 * Output: a markdown table (recorded in docs/performance.md) and a JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../redirector/src/server/node-adapter.js';
import { build, spawnRedirector } from './redirector-process.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION_S = Number(process.env.DURATION_S ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const DIGEST = 'sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e';
const XFF = '35.180.1.1, 130.211.0.1';
/** extra node flags for the redirector, e.g. the Containerfile's NODE_ARGS="--max-old-space-size=160 --max-semi-space-size=8" */
const NODE_ARGS = (process.env.NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
/** extra redirector environment as JSON, e.g. REDIRECTOR_ENV='{"LOG_LEVEL":"warn"}' to price the decision log */
const REDIRECTOR_ENV = JSON.parse(process.env.REDIRECTOR_ENV ?? '{}') as Record<string, string>;

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (proc(5) fields 14 and 15), in clock ticks of 1/100 s on Linux
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function wrk(url: string, seconds: number): number {
  const r = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-H', `X-Forwarded-For: ${XFF}`, url], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (m === null) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  if (/Non-2xx or 3xx responses/.test(r.stdout) === false && !/Socket errors/.test(r.stdout)) return Number(m[1]);
  // every answer must be the 307: wrk counts 3xx as fine, anything else is reported and fails the run
  if (/Non-2xx or 3xx responses/.test(r.stdout)) throw new Error(`non-3xx responses from ${url}:\n${r.stdout}`);
  return Number(m[1]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  build();
  const tmp = mkdtempSync(join(tmpdir(), 'redirector-bench-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    // a fake bucket that has the blob (only the warm-up request reaches it)
    const bucket = await listen(() => ({ status: 200, headers: ['Content-Length', '0'], body: '' }), { host: '127.0.0.1', port: 0 });
    stops.push(() => bucket.close());
    const base = `${bucket.url}/prod-registry-k8s-io-eu-west-3`;
    const map = join(tmp, 'bucket-map.json');
    writeFileSync(map, JSON.stringify({ default: `${bucket.url}/default`, regions: { 'eu-west-3': base } }));

    const red = await spawnRedirector({ BUCKET_MAP: map, ALLOW_UNMAPPED_REGIONS: '*', ...REDIRECTOR_ENV }, join(tmp, 'redirector.log'), NODE_ARGS);
    stops.push(() => red.stop());
    const blobUrl = `${red.url}/v2/pause/blobs/${DIGEST}`;
    const warm = await fetch(blobUrl, { redirect: 'manual', headers: { 'x-forwarded-for': XFF } });
    if (warm.status !== 307 || warm.headers.get('location') !== `${base}/containers/images/${DIGEST}`) throw new Error(`unexpected warm-up answer ${warm.status} ${warm.headers.get('location')}`);
    const location = warm.headers.get('location')!;

    // nginx, one worker, answering the same Location
    const nginxPort = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(
      join(tmp, 'nginx.conf'),
      `worker_processes 1;
daemon off;
pid ${tmp}/nginx.pid;
error_log ${tmp}/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fastcgi; uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;
  server { listen 127.0.0.1:${nginxPort}; location / { return 307 ${location}; } }
}
`,
    );
    const nginx = spawn('nginx', ['-c', join(tmp, 'nginx.conf'), '-p', tmp], { stdio: 'ignore' });
    stops.push(() => new Promise((r) => (nginx.exitCode !== null ? r(null) : (nginx.once('exit', r), nginx.kill('SIGQUIT')))));
    await new Promise((r) => setTimeout(r, 300));
    const nginxWorker = Number(readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(/\s+/)[0]);

    // bare node: fixed 307, no routing
    const bare = spawn(
      process.execPath,
      [
        '-e',
        `require('node:http').createServer((q, s) => { s.writeHead(307, { Location: ${JSON.stringify(location)}, 'Content-Length': '0' }); s.end(); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    stops.push(() => new Promise((r) => (bare.exitCode !== null ? r(null) : (bare.once('exit', r), bare.kill('SIGTERM')))));
    const barePort = await new Promise<string>((r) => bare.stdout!.once('data', (c: Buffer) => r(c.toString().trim())));
    await new Promise((r) => setTimeout(r, 300));

    const targets: Record<string, { url: string; pid: number }> = {
      redirector: { url: blobUrl, pid: red.child.pid! },
      nginx: { url: `http://127.0.0.1:${nginxPort}/v2/pause/blobs/${DIGEST}`, pid: nginxWorker },
      'bare node': { url: `http://127.0.0.1:${barePort}/v2/pause/blobs/${DIGEST}`, pid: bare.pid! },
    };
    const rps: Record<string, number[]> = {};
    const perCpu: Record<string, number[]> = {};
    for (const { url } of Object.values(targets)) wrk(url, 2);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, { url, pid }] of Object.entries(targets)) {
        const cpu0 = cpuSeconds(pid);
        const r = wrk(url, DURATION_S);
        const cpu = cpuSeconds(pid) - cpu0;
        (rps[name] ??= []).push(r);
        (perCpu[name] ??= []).push((r * DURATION_S) / cpu);
        process.stderr.write(`round ${round + 1}: ${name} ${r.toFixed(0)} req/s, ${cpu.toFixed(2)} CPU-s, ${((r * DURATION_S) / cpu).toFixed(0)} req/CPU-s\n`);
      }
    }
    const med = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
    const wall = med(rps);
    const cost = med(perCpu);
    const lines = [
      `| server | requests/s | × nginx | requests per CPU-second | × nginx |`,
      '|---|---|---|---|---|',
      ...Object.keys(targets).map((k) => `| ${k} | ${wall[k]!.toFixed(0)} | ${(wall[k]! / wall.nginx!).toFixed(2)} | ${cost[k]!.toFixed(0)} | ${(cost[k]! / cost.nginx!).toFixed(2)} |`),
      `(medians of ${ROUNDS} rounds × ${DURATION_S} s, wrk -t1 -c${CONNECTIONS}, load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    process.stdout.write(
      JSON.stringify({ bench: 'redirector-throughput', nodeArgs: NODE_ARGS, env: REDIRECTOR_ENV, connections: CONNECTIONS, durationS: DURATION_S, rps, perCpu, ratioWall: wall.redirector! / wall.nginx!, ratioPerCpu: cost.redirector! / cost.nginx! }) + '\n',
    );
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
