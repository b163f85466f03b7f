/**
 * Hostile input: at least 100,000 generated requests (RESILIENCE_SOAK=1: 1,000,000), from fast-check
 * arbitraries built on the OCI grammar (hostile/arbitraries.ts), sent over raw sockets so nothing normalises them
 * (hostile/raw-http.ts): path traversal (decoded and encoded `..`, `%2f`, `//host`, backslashes, Unicode
 * look-alikes, overlong UTF-8), absolute-form targets, CR/LF and header injection (in the path, the query, X-Forwarded-For
 * and other headers, plus a smuggled second request), oversized paths, headers and header counts, malformed
 * X-Forwarded-For (garbage, hundreds of entries, IPv6 zones, v4-mapped, ports, several header lines), methods
 * other than GET and HEAD, malformed digests, hostile queries and odd HTTP versions.
 *
 * Every response is judged: no 5xx; no Location outside the allowed hosts and prefixes (parsed the way a browser or
 * Go client would resolve it, so `..`, `%2e%2e` and `\` count); a bucket Location names exactly one valid digest;
 * no response header the redirector does not send (an injected one would show up here) and no HTML; every
 * request answered (a 4xx is an answer; a connection closed in silence is not). Afterwards the process must still be alive, healthy, and must not have logged a
 * handler failure. The count tried is the figure.
 *
 * The redirector is our own; every bucket in its map is the stand-in bucket (fake-bucket.ts), so the blob requests
 * among the 100,000 cost no s3rver time.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INJECTED,
  hostileRequest,
  serialize,
  wellFramed,
  type Family,
  type HostileRequest,
} from './hostile/arbitraries.js';
import { KeepAliveSender, sendAlone, type RawOutcome, type RawResponse } from './hostile/raw-http.js';
import { startFakeBucket, type FakeBucket } from './support/fake-bucket.js';
import { FigureLog } from './support/figures.js';
import { startOwnRedirector, type OwnRedirector } from './support/own-redirector.js';
import { world } from './support/world.js';

const W = world();
const target = W.target;
const SOAK = process.env.RESILIENCE_SOAK === '1';
const figures = new FigureLog(SOAK ? 'hostile-input-soak' : 'hostile-input');
const COUNT = Number(process.env.RESILIENCE_HOSTILE_N ?? (SOAK ? 1_000_000 : 100_000));
const SEED = Number(process.env.RESILIENCE_HOSTILE_SEED ?? 20_260_601);
const CHUNK = 2_000;
const KEEPALIVE_WORKERS = 24;
const ALONE_WORKERS = 32;

/** every header the redirector (or node for it) writes on the public port */
const ALLOWED_HEADERS = new Set([
  'location',
  'cache-control',
  'content-length',
  'content-type',
  'docker-distribution-api-version',
  'allow',
  'x-content-type-options',
  'connection',
  'keep-alive',
  'date',
  'transfer-encoding',
]);
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

let dir: string;
let fake: FakeBucket;
let r: OwnRedirector;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-canary-resilience-hostile-'));
  fake = await startFakeBucket();
  const regions = Object.fromEntries(Object.keys(target.bucketMap.regions).map((k) => [k, fake.base]));
  r = await startOwnRedirector(target, dir, {
    name: 'hostile',
    bucketMap: { default: fake.base, regions },
    env: { LOG_LEVEL: 'warn' },
  });
});

afterAll(async () => {
  await r?.stop();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Why a Location is not allowed, or null. Resolved as a WHATWG URL: what a client would actually fetch. */
function locationProblem(raw: string): string | null {
  if (/[\x00-\x20\x7f-\xff]/.test(raw)) return 'Location carries a control, space or non-ASCII byte';
  if (raw === target.infoUrl || raw === target.privacyUrl) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'Location is not an absolute URL';
  }
  const prefixes = [`${target.upstream}/v2/`, ...(target.signatureUpstream ? [`${target.signatureUpstream}/v2/`] : [])];
  for (const p of prefixes) {
    const pu = new URL(p);
    if (raw.startsWith(p) && url.origin === pu.origin && url.pathname.startsWith(pu.pathname)) return null;
  }
  const bucketPrefix = `${fake.base}/containers/images/`;
  if (raw.startsWith(bucketPrefix)) {
    const rest = raw.slice(bucketPrefix.length);
    if (DIGEST.test(rest) && url.pathname === new URL(raw).pathname && url.search === '' && url.href === raw)
      return null;
    return `bucket Location does not name exactly one digest: ${JSON.stringify(rest.slice(0, 80))}`;
  }
  return `Location outside the allowed hosts and prefixes (resolves to ${url.origin}${url.pathname.slice(0, 60)})`;
}

function judge(resp: RawResponse): string | null {
  if (resp.status === 0) return `unparsable status line ${JSON.stringify(resp.head.slice(0, 60))}`;
  if (resp.status >= 500) return `${resp.status}`;
  // an injected header would be its own line: its name is not one the redirector sends
  if (resp.headers.some(([n]) => n.toLowerCase().includes(INJECTED.toLowerCase())))
    return 'the injected header came back as a response header';
  for (const [name, value] of resp.headers) {
    const n = name.toLowerCase();
    if (!ALLOWED_HEADERS.has(n)) return `unexpected response header ${JSON.stringify(name.slice(0, 60))}`;
    if (n === 'content-type' && /html/i.test(value)) return 'an HTML response';
    if (n === 'location') {
      const problem = locationProblem(value);
      if (problem !== null) return `${problem}: ${JSON.stringify(value.slice(0, 160))}`;
    }
  }
  return null;
}

interface Tally {
  tried: number;
  byFamily: Record<string, number>;
  byStatus: Record<string, number>;
  unansweredWellFramed: number;
  unansweredOther: number;
  /** what the unanswered ill-framed requests were, by family and method (CONNECT without a handler is closed) */
  unansweredSamples: string[];
  smuggled: number;
  violations: string[];
}

describe.sequential('hostile input', () => {
  it(`${COUNT} generated hostile requests over raw sockets: no 5xx, no crash, no Location outside the allowed prefixes, no reflected header`, async () => {
    const port = Number(new URL(r.url).port);
    const tally: Tally = {
      tried: 0,
      byFamily: {},
      byStatus: {},
      unansweredWellFramed: 0,
      unansweredOther: 0,
      unansweredSamples: [],
      smuggled: 0,
      violations: [],
    };
    const record = (req: HostileRequest, outcome: RawOutcome, framed: boolean) => {
      tally.tried++;
      tally.byFamily[req.family] = (tally.byFamily[req.family] ?? 0) + 1;
      if (outcome.responses.length === 0) {
        if (framed) tally.unansweredWellFramed++;
        else {
          tally.unansweredOther++;
          if (tally.unansweredSamples.length < 40)
            tally.unansweredSamples.push(
              `[${req.family}] ${JSON.stringify(serialize(req).toString('latin1').slice(0, 160))}`,
            );
        }
        tally.byStatus['none'] = (tally.byStatus['none'] ?? 0) + 1;
        // every request deserves an answer: a 4xx for what cannot be served (rule 1: 405 for any other method)
        if (tally.violations.length < 20)
          tally.violations.push(
            `[${req.family}] no answer (${outcome.timedOut ? 'timed out' : 'closed'}): ${JSON.stringify(serialize(req).toString('latin1').slice(0, 300))}`,
          );
        else tally.violations.push('');
        return;
      }
      // alone: the last answer is the sentinel's; more than one final answer before it means a request was
      // smuggled in (a 100 Continue is not an answer)
      if (outcome.responses.filter((x) => x.status >= 200).length > (framed ? 1 : 2)) tally.smuggled++;
      for (const resp of outcome.responses) {
        tally.byStatus[resp.status] = (tally.byStatus[resp.status] ?? 0) + 1;
        const problem = judge(resp);
        if (problem !== null && tally.violations.length < 20)
          tally.violations.push(
            `[${req.family}] ${problem}\n  request: ${JSON.stringify(serialize(req).toString('latin1').slice(0, 300))}\n  response: ${JSON.stringify(resp.head.slice(0, 300))}`,
          );
        else if (problem !== null) tally.violations.push('');
      }
    };

    // generated lazily, CHUNK at a time, from a fixed seed (reproducible: RESILIENCE_HOSTILE_SEED)
    let queue: HostileRequest[] = [];
    let generated = 0;
    let chunk = 0;
    const nextRequest = (): HostileRequest | null => {
      if (queue.length === 0) {
        if (generated >= COUNT) return null;
        const n = Math.min(CHUNK, COUNT - generated);
        queue = fc.sample(hostileRequest, { numRuns: n, seed: SEED + chunk++ });
        generated += n;
      }
      return queue.pop() ?? null;
    };
    // requests that may not frame as one go to the "alone" workers through their own queue
    const aloneQueue: HostileRequest[] = [];
    let producing = true;
    const started = performance.now();
    const keepAlive = Array.from({ length: KEEPALIVE_WORKERS }, async () => {
      const sender = new KeepAliveSender(port);
      try {
        for (let req = nextRequest(); req !== null; req = nextRequest()) {
          if (!wellFramed(req)) {
            aloneQueue.push(req);
            continue;
          }
          record(req, await sender.send(serialize(req), req.method === 'HEAD'), true);
        }
      } finally {
        sender.close();
      }
    });
    const alone = Array.from({ length: ALONE_WORKERS }, async () => {
      for (;;) {
        const req = aloneQueue.shift();
        if (req === undefined) {
          if (!producing) return;
          await new Promise((res) => setTimeout(res, 5));
          continue;
        }
        record(req, await sendAlone(port, serialize(req), req.method.toUpperCase() === 'HEAD', 3_000), false);
      }
    });
    await Promise.all(keepAlive);
    const keepAliveSeconds = (performance.now() - started) / 1000;
    producing = false;
    await Promise.all(alone);
    const seconds = (performance.now() - started) / 1000;

    // afterwards: still alive, healthy, and no handler failure logged
    const alive = !r.process.hasExited;
    const health = await fetch(`${r.adminUrl}/healthz`).then(
      (res) => res.status,
      () => 0,
    );
    const handlerFailures = r.process.lines().filter((l) => /handler failed|"level":(50|60)/.test(l));
    const violations = tally.violations.filter(Boolean);
    const bad = tally.violations.length;
    figures.record({
      check: 'hostile input',
      figure: `${tally.tried} requests tried in ${Math.round(seconds)} s (${JSON.stringify(tally.byFamily)}); statuses ${JSON.stringify(tally.byStatus)}; ${bad} violations; ${tally.smuggled} exchanges carried a second request inside the first one's bytes (every answer judged); process ${alive ? 'alive' : 'DEAD'}, /healthz ${health}, ${handlerFailures.length} handler failures logged`,
      value: tally.tried,
      unit: 'requests tried',
      bar: `≥ ${COUNT} tried; 0 violations (no 5xx, no Location outside the prefixes, no reflected header, no HTML, every request answered), alive`,
      ok: tally.tried >= COUNT && bad === 0 && alive && health === 200 && handlerFailures.length === 0,
      details: {
        ...tally,
        violations: violations.slice(0, 20),
        handlerFailures: handlerFailures.slice(0, 5),
        seed: SEED,
        keepAliveSeconds,
        seconds,
      },
    });
    expect(violations.slice(0, 10)).toEqual([]);
    expect(tally.tried).toBeGreaterThanOrEqual(COUNT);
    expect(alive).toBe(true);
    expect(health).toBe(200);
    expect(handlerFailures.slice(0, 5)).toEqual([]);
    const families: Family[] = [
      'valid',
      'traversal',
      'absolute',
      'crlf',
      'oversized',
      'xff',
      'method',
      'digest',
      'query',
      'version',
    ];
    for (const f of families) expect(tally.byFamily[f] ?? 0, f).toBeGreaterThan(0);
  });
});
