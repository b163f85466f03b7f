/**
 * Redirects per second for a cached blob decision, against nginx `return 307` and a bare node:http server that
 * answers every request with a fixed 307, on this machine, in the same run, one worker each.
 *
 *   npx tsx bench/redirector-throughput.ts   (ROUNDS=5 WARMUP_S=2 DURATION_S=5 CONNECTIONS=50 NODE_ARGS=
 *                                             REDIRECTOR_ENV={}; SKIP_BUILD=1 reuses dist/;
 *                                             INTERLEAVE=1 CYCLES=8 SLICE_S=2: take turns, see below;
 *                                             BASELINE_MAIN=<other checkout>/dist/redirector/src/main.js: another
 *                                             build measured beside this one, as a fourth server;
 *                                             BASELINE_ENV={...}: this build with other settings as the fourth
 *                                             server, e.g. BASELINE_ENV='{"HTTP_LISTENER":"node"}')
 *
 * Method:
 *  - the redirector is the built server (`node dist/redirector/src/main.js`), one process, its per-decision JSON log
 *    on (it is part of every decision's cost) and written into a pipe that a collector process (`cat`) drains into a
 *    file, as on Cloud Run, where a logging agent reads the container's stdout; LOG_SINK=file hands the redirector
 *    the file itself (redirector-process.ts);
 *  - the request is a blob GET from an AWS eu-west-3 client (`X-Forwarded-For: 35.180.1.1, 130.211.0.1`), so each
 *    request parses X-Forwarded-For, classifies the address over the full tables, validates the OCI path and digest,
 *    looks the bucket up and answers from the positive cache (one warm-up request fills it from a local fake bucket);
 *  - nginx 1.22 (`worker_processes 1`, `access_log off`, 127.0.0.1, config in a temp dir) answers `return 307` with a
 *    Location of the same length; the bare node server answers a fixed 307 with no routing at all;
 *  - load: wrk, 1 thread, CONNECTIONS keep-alive connections. Each round starts all three servers afresh, warms each
 *    up for WARMUP_S seconds, then measures each for DURATION_S seconds, in an order that rotates from round to
 *    round, and stops them. With INTERLEAVE=1 the servers instead take turns within a round: CYCLES turns of SLICE_S
 *    seconds each, requests and CPU summed per server, so that the machine's slow and fast phases (other VMs on the
 *    host) fall on all three alike rather than on whichever ran then. Fresh processes every round because one node process's speed depends on how its JIT
 *    happened to warm up: two identical redirector processes measured up to 20% apart for as long as they ran. The
 *    machine has two cores: one for the server under test, one for wrk;
 *  - two figures per server: requests/s (wall clock), and requests per CPU-second the server process used (utime +
 *    stime from /proc/<pid>/stat, all threads; for nginx its single worker). The second is what a request costs, and
 *    stays meaningful when other jobs share the machine, which makes wall-clock rates swing by 2× from round to
 *    round; on an idle machine, with each server saturating its core, the two ratios agree. The ratio to nginx is
 *    taken within each round (the servers measured seconds apart, under the same conditions) and its median over
 *    the rounds is the result; the verdict on the goal (0.45× nginx) comes with an interval for that median
 *    (goal-verdict.ts: `met` or `missed` only when the whole interval is on one side; 5 rounds are the fewest that
 *    can decide).
 * Output: a markdown table (recorded in docs/performance.md), the verdict line and a JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenNodeHttp } from '../redirector/src/server/node-adapter.js';
import { redirectorNodeFlags } from '../harness/src/index.js';
import { build, spawnRedirector } from './redirector-process.js';
import { goalVerdict, median, verdictLine } from './goal-verdict.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION_S = Number(process.env.DURATION_S ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const WARMUP_S = Number(process.env.WARMUP_S ?? 2);
/** INTERLEAVE=1: measure each server in CYCLES slices of SLICE_S seconds, taking turns, instead of one DURATION_S run each */
const INTERLEAVE = process.env.INTERLEAVE === '1';
const CYCLES = Number(process.env.CYCLES ?? 8);
const SLICE_S = Number(process.env.SLICE_S ?? 2);
/** the goal (docs/performance.md): the redirector's requests per CPU-second at least this share of nginx's */
const GOAL_X_NGINX = 0.45;
const DIGEST = 'sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e';
const XFF = '35.180.1.1, 130.211.0.1';
/** node flags for the redirector: by default those it ships with (redirector/Containerfile); NODE_ARGS= for none */
const NODE_ARGS =
  process.env.NODE_ARGS === undefined
    ? redirectorNodeFlags()
    : process.env.NODE_ARGS.split(' ').filter((a) => a !== '');
/** another build of the redirector to measure in the same rounds (e.g. the last commit's, built in a git worktree) */
const BASELINE_MAIN = process.env.BASELINE_MAIN;
if (BASELINE_MAIN !== undefined && !existsSync(BASELINE_MAIN))
  throw new Error(`BASELINE_MAIN: ${BASELINE_MAIN} does not exist (build that checkout first)`);
/** extra redirector environment as JSON, e.g. REDIRECTOR_ENV='{"LOG_LEVEL":"warn"}' to price the decision log */
const REDIRECTOR_ENV = jsonEnv('REDIRECTOR_ENV');
/** the fourth server's environment (on top of REDIRECTOR_ENV); given alone, the fourth server is this build */
const BASELINE_ENV = process.env.BASELINE_ENV === undefined ? undefined : jsonEnv('BASELINE_ENV');
const HAS_BASELINE = BASELINE_MAIN !== undefined || BASELINE_ENV !== undefined;

function jsonEnv(name: string): Record<string, string> {
  const raw = process.env[name] ?? '{}';
  try {
    const v: unknown = JSON.parse(raw);
    if (
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.values(v).every((x) => typeof x === 'string')
    )
      return v as Record<string, string>;
  } catch {
    // reported below
  }
  throw new Error(`${name}: expected a JSON object of strings, e.g. '{"LOG_LEVEL":"warn"}', got ${raw}`);
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (proc(5) fields 14 and 15), in clock ticks of 1/100 s on Linux
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * One wrk run. Asynchronous on purpose: the fake bucket lives in this process, and the redirector's background
 * revalidation HEADs it during the run; a blocked event loop here would make those HEADs time out and measure the
 * breaker instead of the cached path.
 */
async function wrk(url: string, seconds: number): Promise<number> {
  const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-H', `X-Forwarded-For: ${XFF}`, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise((r) => child.once('close', r));
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (m === null) throw new Error(`wrk failed: ${stderr || stdout}`);
  // every answer must be the 307: wrk counts 3xx as fine, anything else is reported and fails the run
  if (/Non-2xx or 3xx responses/.test(stdout)) throw new Error(`non-3xx responses from ${url}:\n${stdout}`);
  return Number(m[1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  url: string;
  /** the process whose CPU time is the server's (nginx: its worker) */
  pid: number;
  stop(): Promise<unknown>;
}

const stopChild = (child: ChildProcess, signal: NodeJS.Signals) => () =>
  new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null ? r(null) : (child.once('exit', r), child.kill(signal)),
  );

async function startNginx(dir: string, location: string): Promise<Server> {
  mkdirSync(dir, { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port}; location / { return 307 ${location}; } }
}
`,
  );
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const stop = stopChild(nginx, 'SIGQUIT');
  for (let i = 0; ; i++) {
    await sleep(50);
    const worker = readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(/\s+/)[0];
    if (worker) return { url: `http://127.0.0.1:${port}/v2/pause/blobs/${DIGEST}`, pid: Number(worker), stop };
    if (i > 100) {
      await stop();
      throw new Error(`nginx did not start a worker (${dir}/nginx-error.log)`);
    }
  }
}

async function startBareNode(location: string): Promise<Server> {
  const bare = spawn(
    process.execPath,
    [
      '-e',
      `require('node:http').createServer((q, s) => { s.writeHead(307, { Location: ${JSON.stringify(location)}, 'Content-Length': '0' }); s.end(); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((r) => bare.stdout!.once('data', (c: Buffer) => r(c.toString().trim())));
  return { url: `http://127.0.0.1:${port}/v2/pause/blobs/${DIGEST}`, pid: bare.pid!, stop: stopChild(bare, 'SIGTERM') };
}

async function startRedirector(
  map: string,
  logFile: string,
  expected: string,
  main?: string,
  env: Record<string, string> = {},
): Promise<Server> {
  const red = await spawnRedirector(
    { BUCKET_MAP: map, ALLOW_UNMAPPED_REGIONS: '*', ...REDIRECTOR_ENV, ...env },
    logFile,
    NODE_ARGS,
    main,
  );
  const url = `${red.url}/v2/pause/blobs/${DIGEST}`;
  // fills the positive cache from the fake bucket; a failed warm-up (an answer or a transport error) stops the process
  try {
    const warm = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': XFF } });
    if (warm.status !== 307 || warm.headers.get('location') !== expected)
      throw new Error(`unexpected warm-up answer ${warm.status} ${warm.headers.get('location')}`);
  } catch (err) {
    await red.stop();
    throw err;
  }
  return { url, pid: red.child.pid!, stop: () => red.stop() };
}

async function main(): Promise<void> {
  build();
  const tmp = mkdtempSync(join(tmpdir(), 'redirector-bench-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    // a fake bucket that has the blob (the warm-up requests and the background revalidation reach it)
    const bucket = await listenNodeHttp(() => ({ status: 200, headers: ['Content-Length', '0'], body: '' }), {
      host: '127.0.0.1',
      port: 0,
    });
    stops.push(() => bucket.close());
    const base = `${bucket.url}/prod-registry-k8s-io-eu-west-3`;
    const location = `${base}/containers/images/${DIGEST}`;
    const map = join(tmp, 'bucket-map.json');
    writeFileSync(map, JSON.stringify({ default: `${bucket.url}/default`, regions: { 'eu-west-3': base } }));

    const names = HAS_BASELINE
      ? (['redirector', 'nginx', 'bare node', 'baseline'] as const)
      : (['redirector', 'nginx', 'bare node'] as const);
    const rps: Record<string, number[]> = {};
    const perCpu: Record<string, number[]> = {};
    const ratio: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      // fresh processes every round: one node process's speed depends on how its JIT happened to warm up (two
      // identical processes measured up to 20% apart), so a figure from one process is one draw, not the cost
      // each server is recorded as soon as it is up, so that one failing to start does not leave the others running
      const servers: Record<string, Server> = {};
      try {
        servers.redirector = await startRedirector(map, join(tmp, `redirector-${round}.log`), location);
        servers.nginx = await startNginx(join(tmp, `nginx-${round}`), location);
        servers['bare node'] = await startBareNode(location);
        if (HAS_BASELINE)
          servers.baseline = await startRedirector(
            map,
            join(tmp, `baseline-${round}.log`),
            location,
            BASELINE_MAIN,
            BASELINE_ENV,
          );
        for (const name of names) await wrk(servers[name]!.url, WARMUP_S);
        const costs: Record<string, number> = {};
        const requests: Record<string, number> = {};
        const cpuUsed: Record<string, number> = {};
        // INTERLEAVE=1: CYCLES cycles of SLICE_S seconds per server; otherwise one cycle of DURATION_S each. Either
        // way the order rotates so no server always goes first.
        const cycles = INTERLEAVE ? CYCLES : 1;
        const slice = INTERLEAVE ? SLICE_S : DURATION_S;
        for (let cycle = 0; cycle < cycles; cycle++) {
          for (let i = 0; i < names.length; i++) {
            const name = names[(i + round + cycle) % names.length]!;
            const { url, pid } = servers[name]!;
            const cpu0 = cpuSeconds(pid);
            const r = await wrk(url, slice);
            requests[name] = (requests[name] ?? 0) + r * slice;
            cpuUsed[name] = (cpuUsed[name] ?? 0) + cpuSeconds(pid) - cpu0;
          }
        }
        for (const name of names) {
          const seconds = cycles * slice;
          (rps[name] ??= []).push(requests[name]! / seconds);
          costs[name] = requests[name]! / cpuUsed[name]!;
          (perCpu[name] ??= []).push(costs[name]!);
          process.stderr.write(
            `round ${round + 1}: ${name} ${(requests[name]! / seconds).toFixed(0)} req/s, ${cpuUsed[name]!.toFixed(2)} CPU-s, ${costs[name]!.toFixed(0)} req/CPU-s\n`,
          );
        }
        for (const name of names) (ratio[name] ??= []).push(costs[name]! / costs.nginx!);
      } finally {
        for (const server of Object.values(servers)) await server.stop();
      }
    }
    const med = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
    const wall = med(rps);
    const cost = med(perCpu);
    const paired = med(ratio);
    const lines = [
      `| server | requests/s | × nginx | requests per CPU-second | × nginx (median of the rounds' ratios) |`,
      '|---|---|---|---|---|',
      ...names.map(
        (k) =>
          `| ${k} | ${wall[k]!.toFixed(0)} | ${(wall[k]! / wall.nginx!).toFixed(2)} | ${cost[k]!.toFixed(0)} | ${paired[k]!.toFixed(2)} (${ratio[k]!.map((x) => x.toFixed(2)).join(', ')}) |`,
      ),
      `(${ROUNDS} rounds, fresh processes each, ${WARMUP_S} s warm-up + ${INTERLEAVE ? `${CYCLES} turns of ${SLICE_S} s` : `${DURATION_S} s`} each, wrk -t1 -c${CONNECTIONS}, load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`,
    ];
    const goal = goalVerdict(ratio.redirector!, GOAL_X_NGINX, 'at-least');
    lines.push(`redirector per CPU-second × nginx, ${verdictLine(goal)}`);
    process.stdout.write(lines.join('\n') + '\n');
    process.stdout.write(
      JSON.stringify({
        bench: 'redirector-throughput',
        goal,
        baselineMain: BASELINE_MAIN ?? null,
        baselineEnv: BASELINE_ENV ?? null,
        nodeArgs: NODE_ARGS,
        env: REDIRECTOR_ENV,
        connections: CONNECTIONS,
        durationS: DURATION_S,
        interleave: INTERLEAVE ? { cycles: CYCLES, sliceS: SLICE_S } : null,
        rps,
        perCpu,
        ratioWall: wall.redirector! / wall.nginx!,
        ratioPerCpu: paired.redirector!,
        ratios: ratio,
      }) + '\n',
    );
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
