/**
 * What every resilience file shares: the world the global setup started (provided through vitest's inject), a
 * client for the stack's fault control endpoint (HTTP, docs/local-stack.md "Fault control"), and helpers that map
 * vantages to the bucket their blob requests are checked against.
 */
import { inject } from 'vitest';
import type { Fault, MirrorPlan, TargetDescription, Vantage } from '../../../harness/src/index.js';

/**
 * The stack redirector's configuration for this suite: deadlines short enough that a failing bucket is noticed in
 * well under a second, and a breaker cool-down short enough to watch it close again (docs/configuration.md).
 */
export const RESILIENCE_REDIRECTOR_ENV: Record<string, string> = {
  BLOB_CHECK_TIMEOUT_MS: '250',
  BREAKER_FAILURE_THRESHOLD: '5',
  BREAKER_COOLDOWN_MS: '2000',
  BLOB_CACHE_NEGATIVE_TTL_S: '2',
  // decision lines (info) cost a write per request; load runs turn them off (docs/local-stack.md)
  LOG_LEVEL: 'warn',
};

export interface ResilienceWorld {
  target: TargetDescription;
  faultsUrl: string;
  adminUrl: string;
  /** PID of the stack redirector's node process */
  redirectorPid: number;
  redirectorEnv: Record<string, string>;
  /** bucket key (region or "default") → bucket name */
  bucketNames: Record<string, string>;
  /** bucket key → digests the mirror plan put there */
  bucketContents: Record<string, string[]>;
  tempDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    resilienceWorld: ResilienceWorld;
  }
}

export function world(): ResilienceWorld {
  const w = inject('resilienceWorld');
  if (!w)
    throw new Error(
      'no resilience world: run these files through the "resilience" vitest project (npx vitest run --project resilience)',
    );
  return w;
}

export interface RecordedRequest {
  seq: number;
  time: number;
  front: string;
  scope: string;
  method: string;
  path: string;
  digest: string | null;
  status: number;
  fault: string | null;
}

export interface CounterQuery {
  front?: 'buckets' | 'upstream' | 'signature';
  scope?: string;
  method?: string;
  digest?: string;
}

/** The fault control endpoint, over HTTP: exactly what a developer with curl gets. */
export class FaultsClient {
  constructor(private readonly base: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`fault control ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  async set(target: string, fault: Fault): Promise<void> {
    await this.call('PUT', `/faults/${encodeURIComponent(target)}`, fault);
  }

  async clear(target?: string): Promise<void> {
    await this.call('DELETE', target === undefined ? '/faults' : `/faults/${encodeURIComponent(target)}`);
  }

  async count(q: CounterQuery = {}): Promise<number> {
    const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined) as [string, string][]);
    const r = (await this.call('GET', `/counters?${qs}`)) as { count: number; truncated: boolean };
    if (r.truncated && q.digest !== undefined)
      throw new Error('fault proxy counters are truncated; a per-digest count would be inexact');
    return r.count;
  }

  async requests(q: CounterQuery & { limit?: number } = {}): Promise<RecordedRequest[]> {
    const qs = new URLSearchParams(
      Object.entries(q)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return ((await this.call('GET', `/requests?${qs}`)) as { requests: RecordedRequest[] }).requests;
  }

  async resetLog(): Promise<void> {
    await this.call('DELETE', '/requests');
  }
}

export function vantage(target: TargetDescription, name: string): Vantage {
  const v = target.vantages.find((x) => x.name === name);
  if (!v) throw new Error(`no vantage ${name} in ${target.name}`);
  return v;
}

/** The X-Forwarded-For a request from this vantage carries after Google's load balancer (`<client>,<lb>`). */
export function xffFor(target: TargetDescription, v: Vantage): string {
  return `${v.ip},${target.lbIp ?? '34.96.108.209'}`;
}

/** The bucket base a vantage's blob requests are checked against (null for GCP: upstream without a check). */
export function bucketBaseOf(target: TargetDescription, v: Vantage): string | null {
  if (v.cloud === 'GCP') return null;
  if (v.cloud === 'AWS' && v.region !== null && target.bucketMap.regions[v.region] !== undefined)
    return target.bucketMap.regions[v.region]!;
  return target.bucketMap.default;
}

/** The bucket name of a base URL (`http://127.0.0.1:<front>/<bucket>`). */
export function bucketNameOf(base: string): string {
  return new URL(base).pathname.replace(/^\/+|\/+$/g, '');
}

export function planOf(target: TargetDescription): MirrorPlan {
  if (target.mirrorPlan === null || typeof target.mirrorPlan === 'string')
    throw new Error('the local stack publishes its mirror plan inline');
  return target.mirrorPlan;
}

/** Digests the bucket at `base` holds, by the mirror plan. */
export function digestsIn(target: TargetDescription, base: string): string[] {
  return planOf(target).buckets[base] ?? [];
}

/** One vantage per distinct bucket (blob-routed vantages only), in vantage-file order. */
export function vantagePerBucket(target: TargetDescription): { vantage: Vantage; base: string }[] {
  const seen = new Set<string>();
  const out: { vantage: Vantage; base: string }[] = [];
  for (const v of target.vantages) {
    const base = bucketBaseOf(target, v);
    if (base === null || seen.has(base)) continue;
    seen.add(base);
    out.push({ vantage: v, base });
  }
  return out;
}

/** The repository a blob lives in (for a request path), from the target's image list. */
export function repoOf(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

/** A syntactically valid sha256 digest that no fixture has, from a counter (distinct per n). */
export function syntheticDigest(n: number, salt = 0): string {
  const hex = (n >>> 0).toString(16).padStart(8, '0') + (salt >>> 0).toString(16).padStart(8, '0');
  return `sha256:${'e'.repeat(48)}${hex}`;
}
