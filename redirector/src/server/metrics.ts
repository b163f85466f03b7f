/**
 * Prometheus metrics on the admin listener (modelled on GitLab's labelled `cdnRedirect` counter,
 * docs/reference/archeio.md#other-redirectors).
 *
 * The per-request counters are plain Map tallies flushed into prom-client at scrape time (`collect`), because
 * prom-client's labelled `inc` hashes its label object on every call, and this runs once per request on the hot
 * path. Everything else is either off the hot path (HEAD latency, breaker transitions, refreshes) or read at scrape
 * time from its owner (cache sizes, breaker states, range data).
 *
 * prom-client itself is loaded after the server is ready (`attach`, called in the background once listening, or
 * by the first scrape), which keeps its import off the start-up path; events that arrive before are queued.
 */
import type { Counter, Histogram, Registry } from 'prom-client';
import type { BreakerState, HeadEvent } from '../blobs/index.js';
import { countPrefixes, type RangeData } from '../ranges/index.js';
import { REFUSAL_REASONS, REFUSAL_STATUS, type RefusalReason } from './refusal.js';
import type { Decision } from './request-handler.js';

export interface MetricsSources {
  probeStats(): { positive: number; negative: number; inflight: number; positiveMax: number; negativeMax: number };
  breakerStates(): { base: string; state: BreakerState }[];
  rangeData(): RangeData;
  info: { semantics: string; protocolCompat: string; clientIpRule: string };
  mutant: string | null;
}

export interface RedirectorMetrics {
  decision(d: Decision): void;
  /** loads prom-client and builds the registry; idempotent */
  attach(): Promise<Registry>;
  /** the exposition text (attaching first if needed) */
  scrape(): Promise<{ contentType: string; body: string }>;
  head(e: HeadEvent): void;
  breakerChange(base: string, state: BreakerState): void;
  rangeRefresh(result: 'swap' | 'reject'): void;
  /** a request a public listener refused (refusal.ts) */
  refusal(reason: RefusalReason): void;
}

const BREAKER_STATES: BreakerState[] = ['closed', 'open', 'half-open'];

interface Tally {
  n: number;
}

export function createMetrics(src: MetricsSources): RedirectorMetrics {
  const refusals = new Map<RefusalReason, number>(REFUSAL_REASONS.map((r) => [r, 0]));
  const t: Tallies = { decisions: new Map(), checks: new Map(), coalesced: 0, ipProblems: 0, refusals };
  let live: Live | null = null;
  const queued: (() => void)[] = [];
  let attaching: Promise<Registry> | null = null;
  // before prom-client is loaded, off-hot-path events wait here (bounded: a start-up burst, not a leak)
  const later = (f: () => void): void => {
    if (queued.length < 10_000) queued.push(f);
  };
  const attach = (): Promise<Registry> =>
    (attaching ??= import('prom-client').then((prom) => {
      const built = buildRegistry(prom, src, t);
      live = built.live;
      for (const f of queued.splice(0)) f();
      return built.registry;
    }));

  return {
    attach,
    async scrape() {
      const registry = await attach();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    decision(d) {
      const c = d.client;
      const cloud = c?.cloud ?? '';
      const region = c?.region ?? '';
      let byCloud = t.decisions.get(d.plan.reason);
      if (byCloud === undefined) t.decisions.set(d.plan.reason, (byCloud = new Map()));
      let byRegion = byCloud.get(cloud);
      if (byRegion === undefined) byCloud.set(cloud, (byRegion = new Map()));
      let n = byRegion.get(region);
      if (n === undefined) byRegion.set(region, (n = { n: 0 }));
      n.n++;
      if (d.probe !== null) {
        let ct = t.checks.get(d.probe.outcome);
        if (ct === undefined) t.checks.set(d.probe.outcome, (ct = { n: 0 }));
        ct.n++;
        if (d.probe.coalesced) t.coalesced++;
      }
      if (c !== null && c.problem !== undefined) t.ipProblems++;
    },
    head(e) {
      const record = (): void => {
        live!.heads.inc({ bucket: e.base, outcome: e.outcome });
        live!.headSeconds.observe({ outcome: e.outcome }, e.ms / 1000);
      };
      if (live === null) later(record);
      else record();
    },
    breakerChange(base, state) {
      const record = (): void => void live!.transitions.inc({ bucket: base, to: state });
      if (live === null) later(record);
      else record();
    },
    refusal(reason) {
      refusals.set(reason, refusals.get(reason)! + 1);
    },
    rangeRefresh(result) {
      const record = (): void => void live!.refreshes.inc({ result });
      if (live === null) later(record);
      else record();
    },
  };
}

/** The plain tallies the hot path updates; read by the registry at scrape time. */
interface Tallies {
  /** reason → cloud → region → count: nested maps of strings from constants and the range data, whose hashes V8
   * caches, instead of a key concatenated (and hashed afresh) per request */
  decisions: Map<string, Map<string, Map<string, Tally>>>;
  checks: Map<string, Tally>;
  coalesced: number;
  ipProblems: number;
  /** every reason, from 0 (so a rate over a reason never seen yet is 0 rather than absent) */
  refusals: Map<RefusalReason, number>;
}

interface Live {
  heads: Counter;
  headSeconds: Histogram;
  transitions: Counter;
  refreshes: Counter;
}

function buildRegistry(
  prom: typeof import('prom-client'),
  src: MetricsSources,
  t: Tallies,
): { registry: Registry; live: Live } {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = prom;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Counter({
    name: 'redirector_decisions_total',
    help: 'Answered requests by decision reason (a flowchart leaf of docs/request-handling.md) and, for blobs, client cloud and region.',
    labelNames: ['reason', 'cloud', 'region'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, byCloud] of t.decisions) {
        for (const [cloud, byRegion] of byCloud)
          for (const [region, n] of byRegion) this.inc({ reason, cloud, region }, n.n);
      }
    },
  });
  new Counter({
    name: 'redirector_blob_checks_total',
    help: 'Blob existence answers by outcome: cached-found, cached-missing, head-found, head-missing, error, timeout, breaker-open.',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, c] of t.checks) this.inc({ outcome }, c.n);
    },
  });
  new Counter({
    name: 'redirector_blob_checks_coalesced_total',
    help: 'Blob checks that waited on a HEAD already in flight for the same URL (single-flight).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(t.coalesced);
    },
  });
  new Counter({
    name: 'redirector_client_ip_problems_total',
    help: 'Blob requests whose client IP could not be determined (treated as unknown clients).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(t.ipProblems);
    },
  });
  new Counter({
    name: 'redirector_listener_refusals_total',
    help:
      'Requests the public listener refused before the handler saw them (400 malformed, 408 too slow, ' +
      '431 too large), by status and reason (docs/request-handling.md).',
    labelNames: ['status', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of t.refusals) this.inc({ status: String(REFUSAL_STATUS[reason]), reason }, n);
    },
  });
  const heads = new Counter({
    name: 'redirector_blob_heads_total',
    help: 'HEADs sent to buckets, by bucket and outcome.',
    labelNames: ['bucket', 'outcome'],
    registers: [registry],
  });
  const headSeconds = new Histogram({
    name: 'redirector_blob_head_seconds',
    help: 'Latency of blob existence HEADs.',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'redirector_blob_cache_entries',
    help: 'Entries in the blob existence caches.',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      const s = src.probeStats();
      this.set({ cache: 'positive' }, s.positive);
      this.set({ cache: 'negative' }, s.negative);
    },
  });
  new Gauge({
    name: 'redirector_blob_cache_capacity',
    help: 'Configured bound of each blob existence cache (0: disabled).',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      const s = src.probeStats();
      this.set({ cache: 'positive' }, s.positiveMax);
      this.set({ cache: 'negative' }, s.negativeMax);
    },
  });
  new Gauge({
    name: 'redirector_blob_heads_in_flight',
    help: 'HEADs currently in flight (one per URL at most).',
    registers: [registry],
    collect() {
      this.set(src.probeStats().inflight);
    },
  });
  new Gauge({
    name: 'redirector_breaker_state',
    help: 'Per bucket: 1 for the state its breaker is in (closed, open, half-open).',
    labelNames: ['bucket', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { base, state } of src.breakerStates())
        for (const s of BREAKER_STATES) this.set({ bucket: base, state: s }, s === state ? 1 : 0);
    },
  });
  const transitions = new Counter({
    name: 'redirector_breaker_transitions_total',
    help: 'Breaker state changes per bucket.',
    labelNames: ['bucket', 'to'],
    registers: [registry],
  });
  const versionsCache = new WeakMap<RangeData, ReturnType<typeof countPrefixes>>();
  new Gauge({
    name: 'redirector_range_data_info',
    help: 'The range publication in use per cloud (value 1, version in the label).',
    labelNames: ['cloud', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      const v = src.rangeData().versions;
      this.set({ cloud: 'AWS', version: v.aws }, 1);
      this.set({ cloud: 'GCP', version: v.gcp }, 1);
      this.set({ cloud: 'Azure', version: v.azure }, 1);
    },
  });
  new Gauge({
    name: 'redirector_range_prefixes',
    help: 'Published prefixes in use, per cloud and family.',
    labelNames: ['cloud', 'family'],
    registers: [registry],
    collect() {
      const data = src.rangeData();
      let counts = versionsCache.get(data);
      if (counts === undefined) {
        counts = countPrefixes(data);
        versionsCache.set(data, counts);
      }
      for (const [cloud, c] of Object.entries(counts)) {
        this.set({ cloud, family: 'v4' }, c.v4);
        this.set({ cloud, family: 'v6' }, c.v6);
      }
    },
  });
  const refreshes = new Counter({
    name: 'redirector_range_refresh_total',
    help: 'Range refresh attempts by result: swap (validated and in use) or reject (the last good table keeps serving).',
    labelNames: ['result'],
    registers: [registry],
  });
  new Gauge({
    name: 'redirector_info',
    help: 'Routing behaviour in force (value 1).',
    labelNames: ['semantics', 'protocol_compat', 'client_ip_rule'],
    registers: [registry],
  }).set(
    { semantics: src.info.semantics, protocol_compat: src.info.protocolCompat, client_ip_rule: src.info.clientIpRule },
    1,
  );
  const mutant = new Gauge({
    name: 'redirector_mutant',
    help: 'A deliberately broken mutant is active (value 1, name in the label).',
    labelNames: ['name'],
    registers: [registry],
  });
  if (src.mutant !== null) mutant.set({ name: src.mutant }, 1);
  return { registry, live: { heads, headSeconds, transitions, refreshes } };
}
