/**
 * Timed single requests against a redirector (keep-alive, redirects never followed) and the statistics the
 * resilience figures are stated in.
 */
import { Pool } from 'undici';

export interface TimedAnswer {
  status: number;
  location: string | null;
  /** from sending the request to the end of the response, in ms */
  ms: number;
  /** a transport error instead of an answer */
  error?: string;
}

export class TimedClient {
  private readonly pool: Pool;

  constructor(origin: string, opts: { connections?: number; headersTimeoutMs?: number } = {}) {
    this.pool = new Pool(origin, {
      connections: opts.connections ?? 8,
      keepAliveTimeout: 4_000,
      headersTimeout: opts.headersTimeoutMs ?? 10_000,
      bodyTimeout: opts.headersTimeoutMs ?? 10_000,
    });
  }

  async send(
    path: string,
    opts: { method?: 'GET' | 'HEAD'; headers?: Record<string, string> } = {},
  ): Promise<TimedAnswer> {
    const started = performance.now();
    try {
      const res = await this.pool.request({ path, method: opts.method ?? 'GET', headers: opts.headers ?? {} });
      await res.body.dump();
      const loc = res.headers.location;
      return {
        status: res.statusCode,
        location: typeof loc === 'string' ? loc : null,
        ms: performance.now() - started,
      };
    } catch (err) {
      return { status: 0, location: null, ms: performance.now() - started, error: (err as Error).message };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted list; NaN for an empty one. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(values: readonly number[]): LatencySummary {
  // (a reduce, not Math.max(...values): a spread of 100,000+ arguments overflows the stack)
  const max = values.reduce((m, v) => (v > m ? v : m), Number.NEGATIVE_INFINITY);
  return {
    n: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length ? max : Number.NaN,
  };
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; results in index order. */
export async function runPool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
