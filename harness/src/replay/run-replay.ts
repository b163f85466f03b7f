/**
 * Replays pulls and logged requests against each world's redirector from the client address, in xff mode (the
 * client is the entry before the load balancer's, as GCLB writes it), and records:
 *
 * - every request chain hop by hop (the trace a user's `crane pull --verbose` shows);
 * - what the redirector itself says of the request (its `/explain` trace: client classification, matched prefix,
 *   the bucket consulted, the decision);
 * - where the semantics disagree: the same request's first hop compared across worlds in the world's own terms
 *   (gate/location-shape.ts), and the client's classification under each.
 */
import pLimit from 'p-limit';
import { request } from 'undici';
import type { OciHop } from '../oci/hop.js';
import { OciError } from '../oci/oci-error.js';
import { pullImage } from '../oci/pull-image.js';
import { splitRef } from '../oracle/routing-oracle.js';
import { clientForRoute, vantageRoute } from '../run/vantage-route.js';
import type { Vantage } from '../target/target-description.js';
import { bucketNameOf, locationShape } from '../gate/location-shape.js';
import type { LoggedDecision, ReplayItem } from './replay-input.js';
import type { ReplayWorld } from './replay-worlds.js';

/** The parts of the redirector's explain trace a replay shows. */
export interface ExplainView {
  client: { ip: string | null; cloud: string | null; region: string | null; prefix: string | null } | null;
  /** the bucket object the decision HEADs (blobs from non-GCP clients) */
  probeUrl?: string;
  bucket?: string;
  decision?: { reason: string; status: number | null; location: string | null };
  error?: string;
}

export interface ReplayChain {
  /** `GET /v2/pause/blobs/sha256:…` */
  request: string;
  hops: OciHop[];
  /** the first hop in the world's terms: `307 bucket:prod-registry-k8s-io-ap-south-1 /containers/images/…` */
  firstHop: string;
  explain?: ExplainView;
  error?: string;
}

export interface WorldReplay {
  semantics: string;
  url: string;
  chains: ReplayChain[];
  ok: boolean;
  error?: string;
}

export interface SemanticsDifference {
  request: string;
  /** semantics → first hop */
  answers: Record<string, string>;
  /** semantics → client classification */
  clients: Record<string, string>;
  /**
   * semantics → the bucket the decision consulted. It can differ while the first hops agree: a blob the local world
   * lacks falls back to the upstream under both, yet production (which holds it) would serve it from different places.
   */
  buckets: Record<string, string>;
}

export interface ReplayedItem {
  item: ReplayItem;
  /** `15.193.0.5 pause:3.10` or `15.193.0.5 GET /v2/...` */
  title: string;
  worlds: WorldReplay[];
  differences: SemanticsDifference[];
  /** for log lines: what production logged, next to what each semantics did here */
  logged?: LoggedDecision & { bucket?: string };
}

export interface ReplayResult {
  schema: 'registry-canary/replay/v1';
  semantics: string[];
  items: ReplayedItem[];
  durationMs: number;
}

const requestOf = (h: OciHop) => `${h.method} ${new URL(h.url).pathname}${new URL(h.url).search}`;

function clientText(e: ExplainView | undefined): string {
  const c = e?.client;
  if (!c) return e?.error ? `unknown (${e.error})` : 'not classified (not a blob request)';
  return c.cloud === null ? `${c.ip ?? '?'}: no cloud` : `${c.ip}: ${c.cloud} ${c.region} (${c.prefix})`;
}

async function explain(world: ReplayWorld, ip: string | null, method: string, path: string): Promise<ExplainView> {
  const q = new URLSearchParams({ path, method });
  if (ip !== null) q.set('ip', ip);
  try {
    const res = await request(`${world.adminUrl}/explain?${q}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    const body = (await res.body.json()) as Record<string, unknown>;
    if (res.statusCode !== 200)
      return { client: null, error: `explain answered ${res.statusCode}: ${JSON.stringify(body).slice(0, 200)}` };
    const client = body.client as ExplainView['client'];
    const probe = body.probe as { url?: string; base?: string } | null;
    const decision = body.decision as ExplainView['decision'] | null;
    return {
      client: client ?? null,
      ...(probe?.url ? { probeUrl: probe.url } : {}),
      ...(probe?.base
        ? {
            bucket:
              probe.base === world.target.bucketMap.default.replace(/\/+$/, '')
                ? 'default-base'
                : `bucket:${bucketNameOf(probe.base)}`,
          }
        : {}),
      ...(decision
        ? { decision: { reason: decision.reason, status: decision.status, location: decision.location } }
        : {}),
    };
  } catch (err) {
    return { client: null, error: (err as Error).message };
  }
}

function shapeText(world: ReplayWorld, hop: OciHop | undefined, signature: boolean): string {
  if (!hop) return 'no request';
  if (hop.status === 0) return 'no answer';
  if (hop.location === undefined) return String(hop.status);
  const s = locationShape(world.target, hop.location, hop.url, { signature });
  return `${hop.status} ${s.destination} ${s.path}${s.query ? `?${s.query}` : ''}`;
}

const isSignatureTag = (path: string) => /\/manifests\/sha256-[a-f0-9]{64}\.(sig|att)$/.test(path);

async function replayInWorld(world: ReplayWorld, item: ReplayItem, lbIp: string): Promise<WorldReplay> {
  const ip = item.ip;
  const vantage: Vantage = { name: `replay-${ip ?? 'unlogged'}`, ip: ip ?? '', cloud: null, region: null, url: null };
  // without a logged address the request goes without X-Forwarded-For (only blob decisions look at the client)
  const route =
    ip === null
      ? { vantage, mode: 'xff' as const, baseUrl: world.target.url, headers: {}, headerless: false }
      : vantageRoute({ ...world.target, lbIp }, vantage);
  const client = clientForRoute(route, { headersTimeoutMs: 15_000, bodyTimeoutMs: 30_000 });
  const chains: ReplayChain[] = [];
  const add = async (hops: OciHop[], error?: string) => {
    const first = hops[0];
    const path = first ? new URL(first.url).pathname : '';
    const chain: ReplayChain = {
      request: first ? requestOf(first) : '(nothing sent)',
      hops,
      firstHop: shapeText(world, first, isSignatureTag(path)),
      ...(error ? { error } : {}),
    };
    if (first) chain.explain = await explain(world, ip, first.method, `${path}${new URL(first.url).search}`);
    chains.push(chain);
  };
  try {
    if (item.kind === 'pull') {
      const { repository, tag } = splitRef(item.image);
      try {
        const pulled = await pullImage(client, repository, tag, { failFast: false });
        for (const m of pulled.manifests) await add(m.hops);
        for (const b of pulled.blobs) await add(b.hops, b.error ? `${b.error.code}: ${b.error.message}` : undefined);
        return {
          semantics: world.semantics,
          url: world.target.url,
          chains,
          ok: pulled.ok,
          ...(pulled.ok ? {} : { error: pulled.errors.map((e) => `${e.code}: ${e.message}`).join('; ') }),
        };
      } catch (err) {
        // the manifest itself failed: keep its trace
        const hops = err instanceof OciError ? err.hops : [];
        await add(hops, (err as Error).message);
        return { semantics: world.semantics, url: world.target.url, chains, ok: false, error: (err as Error).message };
      }
    }
    try {
      const r = await client.rawProbe(item.method, item.path, { maxBody: 0 });
      await add(r.hops);
      return { semantics: world.semantics, url: world.target.url, chains, ok: r.status < 400 };
    } catch (err) {
      await add(err instanceof OciError ? err.hops : [], (err as Error).message);
      return { semantics: world.semantics, url: world.target.url, chains, ok: false, error: (err as Error).message };
    }
  } catch (err) {
    return { semantics: world.semantics, url: world.target.url, chains, ok: false, error: (err as Error).message };
  }
}

/** Where the worlds' first hops (or client classifications) disagree, request by request. */
export function semanticsDifferences(worlds: readonly WorldReplay[]): SemanticsDifference[] {
  const requests = [...new Set(worlds.flatMap((w) => w.chains.map((c) => c.request)))];
  const out: SemanticsDifference[] = [];
  for (const req of requests) {
    const answers: Record<string, string> = {};
    const clients: Record<string, string> = {};
    const buckets: Record<string, string> = {};
    for (const w of worlds) {
      const c = w.chains.find((x) => x.request === req);
      answers[w.semantics] = c?.firstHop ?? 'not requested';
      clients[w.semantics] = clientText(c?.explain);
      buckets[w.semantics] =
        c?.explain?.bucket ?? (c?.explain?.client?.cloud === 'GCP' ? 'none (GCP client: upstream)' : 'none');
    }
    if (new Set(Object.values(answers)).size > 1 || new Set(Object.values(buckets)).size > 1)
      out.push({ request: req, answers, clients, buckets });
  }
  return out;
}

export interface ReplayOptions {
  /** items replayed at once (default 4) */
  concurrency?: number;
  /** the load balancer entry after the client (default: the world's lbIp, else 0.0.0.0) */
  lbIp?: string;
}

export async function runReplay(
  worlds: readonly ReplayWorld[],
  items: readonly ReplayItem[],
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const started = performance.now();
  const limit = pLimit(Math.max(1, options.concurrency ?? 4));
  const lbIp = options.lbIp ?? worlds[0]?.target.lbIp ?? '0.0.0.0';
  const replayed = await Promise.all(
    items.map((item) =>
      limit(async (): Promise<ReplayedItem> => {
        // worlds one after the other: the same request sequence, so caches warm the same way in each
        const results: WorldReplay[] = [];
        for (const w of worlds) results.push(await replayInWorld(w, item, lbIp));
        const title =
          item.kind === 'pull'
            ? `${item.ip} ${item.image}`
            : `${item.ip ?? '(client not logged)'} ${item.method} ${item.path}`;
        const logged =
          item.kind === 'request'
            ? { ...item.logged, ...((item.logged.probeUrl ?? item.logged.target) ? bucketOfLogged(item.logged) : {}) }
            : undefined;
        return {
          item,
          title,
          worlds: results,
          differences: semanticsDifferences(results),
          ...(logged ? { logged } : {}),
        };
      }),
    ),
  );
  return {
    schema: 'registry-canary/replay/v1',
    semantics: worlds.map((w) => w.semantics),
    items: replayed,
    durationMs: performance.now() - started,
  };
}

/** The bucket a logged decision consulted: the HEADed object's bucket (a miss), or the target's (a hit). */
function bucketOfLogged(d: LoggedDecision): { bucket?: string } {
  const url = d.probeUrl ?? (d.reason.startsWith('blob-bucket') ? d.target : null);
  if (!url) return {};
  const i = url.indexOf('/containers/images/');
  return i < 0 ? {} : { bucket: bucketNameOf(url.slice(0, i)) };
}
