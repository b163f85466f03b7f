/**
 * The real HeadFetcher: undici `request` with method HEAD on a dedicated keep-alive Agent.
 *
 * `request` never follows redirects (unlike archeio's Go client, which follows up to 10): a bucket that redirects
 * is misconfigured for direct client pulls, and blob-probe.ts counts 3xx as an error so the breaker sees it. The
 * Agent's own connect/headers timeouts back up the probe's deadline.
 *
 * undici is imported on first use (or by `preload()`, which the server calls once it is listening): it is the
 * largest module the redirector loads, and nothing needs it before the first blob request.
 */
import type { Agent } from 'undici';
import type { HeadFetcher } from './blob-probe.js';

export interface UndiciHeadFetcher {
  readonly fetch: HeadFetcher;
  /** starts loading undici in the background */
  preload(): void;
  close(): Promise<void>;
}

export function createHeadFetcher(opts: { timeoutMs: number; connections?: number }): UndiciHeadFetcher {
  let loaded: Promise<{ request: typeof import('undici').request; agent: Agent }> | null = null;
  const load = () =>
    (loaded ??= import('undici').then((u) => ({
      request: u.request,
      agent: new u.Agent({
        connections: opts.connections ?? 64,
        keepAliveTimeout: 30_000,
        connect: { timeout: opts.timeoutMs },
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      }),
    })));
  return {
    async fetch(url, signal) {
      const { request, agent } = await load();
      const res = await request(url, { method: 'HEAD', signal, dispatcher: agent });
      await res.body.dump();
      return res.statusCode;
    },
    preload() {
      void load();
    },
    async close() {
      if (loaded !== null) await (await loaded).agent.close();
    },
  };
}
