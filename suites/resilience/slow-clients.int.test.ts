/**
 * Slow and idle clients: 1,000 idle or slowly-sending connections do not stop other clients being served
 * (p99 under 20 ms for them), and the header and request timeouts close the slow ones.
 *
 * A redirector of our own with HEADERS_TIMEOUT_MS=3000 (default 2 s, archeio's ReadHeaderTimeout: a little longer,
 * so that all 1,000 are open before the first is closed, on a busy machine too) and REQUEST_TIMEOUT_MS=4000 (default
 * 10 s, archeio's ReadTimeout; shortened to keep the run short). Raw sockets, so nothing in between completes or
 * times out a request for us:
 *  - idle: connect and send nothing;
 *  - slow headers (slowloris): a request line, then one header byte every 300 ms, never the blank line;
 *  - slow body: complete headers of a GET announcing a 1 MiB body, then one body byte every 300 ms.
 * While they are open, a well-behaved client sends blob and manifest requests; afterwards, each slow connection's
 * lifetime is compared with the timeout that should have ended it. Run once per public listener (HTTP_LISTENER):
 * the strict one never reads a body, so it answers the slow body's GET and closes at once (CLOSES_AFTER).
 */
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FigureLog } from './support/figures.js';
import { startOwnRedirector, type OwnRedirector } from './support/own-redirector.js';
import { TimedClient, round, runPool, sleep, summarize } from './support/timed-client.js';
import { bucketBaseOf, digestsIn, vantage, world, xffFor } from './support/world.js';

const W = world();
const target = W.target;
const figures = new FigureLog('slow-clients');
const HEADERS_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 4_000;
/** both listeners check their timeouts every min(1 s, headers timeout / 2) (node-adapter.ts, strict-listener.ts) */
const CHECK_INTERVAL_MS = Math.min(1_000, HEADERS_TIMEOUT_MS / 2);
const PER_KIND = { idle: 400, 'slow-headers': 300, 'slow-body': 300 } as const;
type Kind = keyof typeof PER_KIND;

/**
 * When the server should close each kind (ms after it opened): idle and slow-header connections at the header
 * timeout (both listeners count it from the connection's start); a slow body at the request timeout on node:http,
 * which reads bodies, and at once on the strict listener, which answers a request announcing a body and closes.
 */
const CLOSES_AFTER = {
  node: { idle: HEADERS_TIMEOUT_MS, 'slow-headers': HEADERS_TIMEOUT_MS, 'slow-body': REQUEST_TIMEOUT_MS },
  strict: { idle: HEADERS_TIMEOUT_MS, 'slow-headers': HEADERS_TIMEOUT_MS, 'slow-body': 0 },
} as const satisfies Record<string, Record<Kind, number>>;

interface SlowConnection {
  kind: Kind;
  socket: Socket;
  opened: number;
  closedAfter: number | null;
  /** what the server wrote before closing (e.g. a 408) */
  answer: string;
}

function open(port: number, kind: Kind): Promise<SlowConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const c: SlowConnection = { kind, socket, opened: 0, closedAfter: null, answer: '' };
    let timer: NodeJS.Timeout | undefined;
    socket.setNoDelay(true);
    socket.on('data', (d) => (c.answer += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      if (c.opened > 0) c.closedAfter = performance.now() - c.opened;
    });
    socket.once('connect', () => {
      c.opened = performance.now();
      if (kind === 'slow-headers') {
        socket.write('GET /v2/pause/manifests/latest HTTP/1.1\r\nHost: registry.k8s.io\r\nX-Slow: ');
        timer = setInterval(() => socket.writable && socket.write('a'), 300);
      } else if (kind === 'slow-body') {
        socket.write(
          'GET /v2/pause/manifests/latest HTTP/1.1\r\nHost: registry.k8s.io\r\nContent-Length: 1048576\r\n\r\n',
        );
        timer = setInterval(() => socket.writable && socket.write('b'), 300);
      }
      resolve(c);
    });
    socket.once('error', reject);
  });
}

describe.sequential.each(['strict', 'node'] as const)('slow and idle clients (HTTP_LISTENER=%s)', (listener) => {
  let dir: string;
  let r: OwnRedirector;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'registry-canary-resilience-slow-'));
    r = await startOwnRedirector(target, dir, {
      name: `slow-${listener}`,
      env: {
        HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        LOG_LEVEL: 'warn',
        HTTP_LISTENER: listener,
      },
    });
  });

  afterAll(async () => {
    await r?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const closesAfter: Record<Kind, number> = CLOSES_AFTER[listener];
  /** the connections the server should still hold while the well-behaved client runs */
  const held = (Object.keys(PER_KIND) as Kind[]).reduce((n, k) => n + (closesAfter[k] > 0 ? PER_KIND[k] : 0), 0);

  it('1,000 idle and slow connections: other clients keep being served, and the timeouts close the slow ones', async () => {
    const port = Number(new URL(r.url).port);
    const client = new TimedClient(r.url, { connections: 2 });
    const v = vantage(target, 'aws-us-east-1');
    const base = bucketBaseOf(target, v)!;
    const digests = digestsIn(target, base);
    const headers = { 'x-forwarded-for': xffFor(target, v) };
    const request = (i: number) =>
      client.send(i % 2 === 0 ? `/v2/pause/blobs/${digests[i % digests.length]}` : '/v2/pause/manifests/latest', {
        headers,
      });
    const conns: SlowConnection[] = [];
    try {
      // warm: the cache holds the blobs, the connections are open, the JIT has run
      await runPool(400, 2, request);
      const quiet = summarize((await runPool(600, 2, request)).map((a) => a.ms));

      // 1,000 connections, opened 100 at a time (the listen backlog is node's default 511), kinds interleaved
      const kinds = (Object.keys(PER_KIND) as Kind[]).flatMap((k) => Array.from({ length: PER_KIND[k] }, () => k));
      kinds.sort((a, b) => a.localeCompare(b));
      const order = kinds
        .map((k, i) => ({ k, key: (i * 7919) % kinds.length }))
        .sort((a, b) => a.key - b.key)
        .map((x) => x.k);
      for (let i = 0; i < order.length; i += 100)
        conns.push(...(await Promise.all(order.slice(i, i + 100).map((k) => open(port, k)))));
      const firstOpened = Math.min(...conns.map((c) => c.opened));

      // the well-behaved client, while all of them are open (the first ones close HEADERS_TIMEOUT_MS after opening)
      const during: number[] = [];
      const failed: string[] = [];
      do {
        const batch = await runPool(50, 2, request);
        for (const a of batch) {
          during.push(a.ms);
          if (a.status !== 307) failed.push(`${a.status} ${a.error ?? ''}`);
        }
      } while (performance.now() < firstOpened + HEADERS_TIMEOUT_MS - 300 && during.length < 5_000);
      const openDuring = conns.filter((c) => c.closedAfter === null).length;
      const lat = summarize(during);
      figures.record({
        check: 'slow clients: the others are still served',
        figure: `${listener}: p99 ${round(lat.p99)} ms, p50 ${round(lat.p50)} ms over ${lat.n} requests while ${openDuring} idle/slow connections were open (same client, quiet: p99 ${round(quiet.p99)} ms); ${failed.length} failed`,
        value: round(lat.p99),
        unit: 'ms',
        bar: '< 20 ms, 0 failed',
        ok: lat.p99 < 20 && failed.length === 0,
        details: { during: lat, quiet, openDuring },
      });
      expect(failed.slice(0, 5)).toEqual([]);
      // a few may close early on a slow machine; every one the listener should hold, less 10%
      expect(openDuring).toBeGreaterThanOrEqual(held * 0.9);
      expect(lat.p99).toBeLessThan(20);

      // the slow ones are closed by the server's timeouts
      const deadline = performance.now() + REQUEST_TIMEOUT_MS + 3_000;
      while (conns.some((c) => c.closedAfter === null) && performance.now() < deadline) await sleep(100);
      for (const kind of Object.keys(PER_KIND) as Kind[]) {
        const of = conns.filter((c) => c.kind === kind);
        const open = of.filter((c) => c.closedAfter === null).length;
        const lifetimes = of.filter((c) => c.closedAfter !== null).map((c) => c.closedAfter!);
        const s = summarize(lifetimes);
        const timeout = closesAfter[kind];
        const bound = timeout + CHECK_INTERVAL_MS + 500;
        const which =
          timeout === REQUEST_TIMEOUT_MS
            ? `REQUEST_TIMEOUT_MS ${timeout}`
            : timeout === HEADERS_TIMEOUT_MS
              ? `HEADERS_TIMEOUT_MS ${timeout}`
              : 'answered and closed at once';
        const answers = new Map<string, number>();
        for (const c of of) {
          const status = c.answer === '' ? '(nothing)' : (c.answer.split('\r\n')[0] ?? '');
          answers.set(status, (answers.get(status) ?? 0) + 1);
        }
        figures.record({
          check: `slow clients (${listener}): ${kind} connections closed by the server`,
          figure: `${of.length - open}/${of.length} closed, after ${round(s.p50 / 1000, 2)} s (p50) to ${round(s.max / 1000, 2)} s (max); ${which}; answers: ${[...answers].map(([a, n]) => `${n}× ${a}`).join(', ')}`,
          value: round(s.max, 0),
          unit: 'ms',
          bar: `all closed within ${bound} ms`,
          ok: open === 0 && s.max <= bound,
          details: { lifetimes: s, answers: Object.fromEntries(answers) },
        });
        expect(open, `${kind} connections still open`).toBe(0);
        expect(s.max).toBeLessThanOrEqual(bound);
        // what each kind was told: 408 for a head never finished, the manifest's redirect for the slow body's GET
        expect([...answers.keys()]).toEqual([
          kind === 'slow-body' ? 'HTTP/1.1 307 Temporary Redirect' : 'HTTP/1.1 408 Request Timeout',
        ]);
      }
    } finally {
      for (const c of conns) c.socket.destroy();
      await client.close();
    }
  });
});
