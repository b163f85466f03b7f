import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { ProbeResult } from '../blobs/index.js';
import type { BlobRoute, ClientFacts, Reason } from '../routing/index.js';
import { RULE_OF, decisionLogger, str } from './decision-log.js';
import { createLogSink } from './log-sink.js';
import { decisionLocation, type Decision } from './request-handler.js';

/** The twin: the same line as a plain object through JSON.stringify (what the hand-built line must parse to). */
function expected(d: Decision): Record<string, unknown> {
  const o: Record<string, unknown> = {
    level: 30,
    msg: 'decision',
    reason: d.plan.reason,
    rule: RULE_OF[d.plan.reason],
    method: d.method,
    path: d.target,
    status: d.status,
    target: decisionLocation(d),
  };
  if (d.client !== null) {
    Object.assign(o, { ip: d.client.ip, ipSource: d.ipSource });
    if (d.client.problem !== undefined) o.ipProblem = d.client.problem;
    Object.assign(o, { cloud: d.client.cloud, region: d.client.region, prefix: d.client.prefix });
  }
  if (d.probeUrl !== null && d.probeUrl !== decisionLocation(d)) o.probeUrl = d.probeUrl;
  if (d.probe !== null) {
    o.cache = d.probe.outcome;
    if (d.probe.status !== null) o.headStatus = d.probe.status;
    if (d.probe.headMs !== null) o.headMs = Math.round(d.probe.headMs * 100) / 100;
    if (d.probe.coalesced) o.coalesced = true;
  }
  return JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
}

/** What a decision puts on the wire: through the real sink (its ASCII path) and decoded from the written bytes. */
function logged(...ds: Decision[]): string[] {
  return loggedThrough(createLogSink, ...ds);
}

/**
 * The same through a sink of the given making, checked against a plain destination (the other way a line is put
 * together: its parts joined into one string) given the same decisions in the same millisecond.
 */
function loggedThrough(makeSink: typeof createLogSink, ...ds: Decision[]): string[] {
  const bytes: Buffer[] = [];
  const sink = makeSink({
    flushIntervalMs: 0,
    writeSync: (_fd, buf, off, len) => (bytes.push(Buffer.from(buf.subarray(off, off + len))), len),
  });
  const strings: string[] = [];
  const viaSink = decisionLogger('info', sink);
  const viaText = decisionLogger('info', { write: (s: string) => void strings.push(s) });
  const realNow = Date.now;
  Date.now = () => 1_765_000_000_000;
  try {
    for (const d of ds) {
      viaSink(d);
      viaText(d);
    }
  } finally {
    Date.now = realNow;
  }
  sink.close();
  const text = Buffer.concat(bytes).toString('utf8');
  expect(text).toBe(strings.join(''));
  return text.split(/(?<=\n)/);
}

/** A decision from its logged fields: the plan it answers (a redirect, or a 404 when there is no location). */
function decision({
  reason,
  location,
  ...d
}: Omit<Decision, 'plan' | 'blob'> & { reason: Reason; location: string | null; blob?: BlobRoute | null }): Decision {
  const plan: Decision['plan'] =
    location === null ? { kind: 'error', reason, status: 404 } : { kind: 'redirect', reason, location };
  return { blob: null, ...d, plan };
}

const DIGEST = 'sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e';
const HIT: Decision = decision({
  method: 'GET',
  target: `/v2/pause/blobs/${DIGEST}`,
  reason: 'blob-bucket-hit',
  status: 307,
  location: `https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com/containers/images/${DIGEST}`,
  client: { ip: '35.180.1.1', cloud: 'AWS', region: 'eu-west-3', prefix: '35.180.0.0/16' },
  ipSource: 'xff',
  probeUrl: `https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com/containers/images/${DIGEST}`,
  probe: { verdict: 'hit', outcome: 'cached-found', status: null, headMs: null, coalesced: false },
});

describe('decisionLogger', () => {
  it('writes one JSON line per decision with every field the issue names', () => {
    const lines = logged(HIT);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('}\n')).toBe(true);
    expect(lines[0]!.indexOf('\n')).toBe(lines[0]!.length - 1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(typeof line.time).toBe('number');
    delete line.time;
    expect(line).toEqual(expected(HIT));
    expect(line).toMatchObject({
      rule: 6,
      ip: '35.180.1.1',
      cloud: 'AWS',
      region: 'eu-west-3',
      prefix: '35.180.0.0/16',
      cache: 'cached-found',
    });
    expect(line).not.toHaveProperty('probeUrl'); // the target already says it
  });

  it('stamps each line with the millisecond it was written in (the time text is reused only within one)', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const bytes: Buffer[] = [];
      const sink = createLogSink({
        flushIntervalMs: 0,
        writeSync: (_fd, buf, off, len) => (bytes.push(Buffer.from(buf.subarray(off, off + len))), len),
      });
      const log = decisionLogger('info', sink);
      const at = [1_765_000_000_000, 1_765_000_000_000, 1_765_000_000_001, 1_765_000_000_000, 1_765_000_100_000];
      for (const t of at) {
        vi.setSystemTime(t);
        log(HIT);
      }
      sink.close();
      const times = Buffer.concat(bytes)
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { time: number }).time);
      expect(times).toEqual(at);
    } finally {
      vi.useRealTimers();
    }
  });

  it('names the owner a prefix has now: a range refresh that moves a prefix to another region shows at once', () => {
    const moved: Decision = { ...HIT, client: { ...HIT.client!, region: 'eu-west-1' } };
    const lines = logged(HIT, moved, HIT).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.region)).toEqual(['eu-west-3', 'eu-west-1', 'eu-west-3']);
    expect(lines.map((l) => l.prefix)).toEqual(['35.180.0.0/16', '35.180.0.0/16', '35.180.0.0/16']);
  });

  it('uses what it remembers of a shared route, plan or client only for the text it was built from', () => {
    const blob: BlobRoute = Object.freeze({ kind: 'blob', name: 'pause', digest: DIGEST, upstream: '' });
    const hitLocation = decisionLocation(HIT)!;
    const plan = Object.freeze({
      kind: 'redirect',
      reason: 'blob-bucket-hit',
      location: hitLocation,
    }) as Decision['plan'];
    const client = Object.freeze({ ...HIT.client! });
    const first = { ...HIT, blob, plan, client };
    // the same route and client with another target (a caller that reuses them wrongly), another plan, another source
    const otherLocation = 'https://elsewhere.example/x';
    const other = {
      ...first,
      target: '/v2/other/blobs/' + DIGEST,
      plan: Object.freeze({ ...plan, location: otherLocation }),
      ipSource: 'socket' as const,
    };
    const lines = logged(first, other, first).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.path)).toEqual([HIT.target, other.target, HIT.target]);
    expect(lines.map((l) => l.target)).toEqual([hitLocation, otherLocation, hitLocation]);
    expect(lines.map((l) => l.ipSource)).toEqual(['xff', 'socket', 'xff']);
  });

  it('writes through a destination without the ASCII path too (any pino destination)', () => {
    const lines: string[] = [];
    decisionLogger('info', { write: (s: string) => void lines.push(s) })(HIT);
    expect(JSON.parse(lines[0]!)).toMatchObject({ reason: 'blob-bucket-hit', ip: '35.180.1.1' });
  });

  it("writes a line longer than the sink's whole batch on its own, whole", () => {
    const long: Decision = { ...HIT, target: `/v2/${'a/'.repeat(300)}pause/blobs/${DIGEST}` };
    const lines = loggedThrough((o) => createLogSink({ ...o, maxPending: 256 }), HIT, long, HIT);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => (JSON.parse(l) as { path: string }).path)).toEqual([HIT.target, long.target, HIT.target]);
  });

  it('writes nothing above info', () => {
    for (const level of ['warn', 'error', 'fatal', 'silent'] as const) {
      const lines: string[] = [];
      decisionLogger(level, { write: (s: string) => void lines.push(s) })(HIT);
      expect(lines).toEqual([]);
    }
  });

  it('escapes whatever a client can put in a path, a header or a query, and parses back to the twin', () => {
    const anyText = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', 'é', '\ud800', '\udc00', '/', 'a') }),
    );
    const client = fc.option(
      fc.record(
        {
          ip: fc.option(anyText, { nil: null }),
          cloud: fc.constantFrom(null, 'AWS', 'GCP', 'Azure'),
          region: fc.option(anyText, { nil: null }),
          prefix: fc.option(anyText, { nil: null }),
          problem: anyText,
        },
        { requiredKeys: ['ip', 'cloud', 'region', 'prefix'] },
      ),
      { nil: null },
    );
    const probe = fc.option(
      fc.record({
        verdict: fc.constantFrom('hit', 'miss', 'error', 'breaker-open'),
        outcome: fc.constantFrom(
          'cached-found',
          'cached-missing',
          'head-found',
          'head-missing',
          'error',
          'timeout',
          'breaker-open',
        ),
        status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }),
        headMs: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: null }),
        coalesced: fc.boolean(),
      }),
      { nil: null },
    );
    fc.assert(
      fc.property(
        anyText,
        anyText,
        fc.constantFrom(...(Object.keys(RULE_OF) as Reason[])),
        fc.option(anyText, { nil: null }),
        client,
        fc.constantFrom('xff', 'socket', null),
        fc.option(anyText, { nil: null }),
        probe,
        fc.boolean(),
        (method, target, reason, location, c, ipSource, probeUrl, p, shared) => {
          const d = decision({
            method,
            target,
            reason,
            status: 307,
            location,
            client: c as ClientFacts | null,
            ipSource: ipSource as Decision['ipSource'],
            probeUrl,
            probe: p as ProbeResult | null,
          });
          // shared (frozen) objects are escaped once and remembered: their lines must be the same as fresh ones
          const blob: BlobRoute = { kind: 'blob', name: 'pause', digest: DIGEST, upstream: '' };
          const once = shared
            ? {
                ...d,
                blob: Object.freeze(blob),
                plan: Object.freeze({ ...d.plan }),
                client: d.client === null ? null : Object.freeze({ ...d.client }),
              }
            : d;
          const lines = logged(once, once).slice(1);
          expect(lines).toHaveLength(1);
          // one line: a raw newline inside would split the record for every log reader
          expect(lines[0]!.indexOf('\n')).toBe(lines[0]!.length - 1);
          const line = JSON.parse(lines[0]!) as Record<string, unknown>;
          delete line.time;
          expect(line).toEqual(expected(d));
          // every character is ASCII (so the sink's byte-for-byte copy is exact, and no lone surrogate is left raw)
          expect(lines[0]).toMatch(/^[\x00-\x7f]*$/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('str', () => {
  it('writes an ASCII JSON literal that parses back to the same text; for ASCII input, exactly JSON.stringify', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'grapheme' }),
          fc.string({ unit: 'grapheme-ascii' }),
        ),
        (s) => {
          const out = str(s);
          expect(out).toMatch(/^[\x00-\x7f]*$/);
          expect(JSON.parse(out)).toBe(s);
          if (/^[\x00-\x7f]*$/.test(s)) expect(out).toBe(JSON.stringify(s));
        },
      ),
      { numRuns: 5000 },
    );
    expect(str('é')).toBe('"\\u00e9"');
    expect(str('😀')).toBe('"\\ud83d\\ude00"');
    expect(str('/v2/a/blobs/sha256:00')).toBe('"/v2/a/blobs/sha256:00"');
    expect(str('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(str('\ud800')).toBe('"\\ud800"');
  });
});
