/**
 * The real HeadFetcher: undici `request` with method HEAD on a dedicated keep-alive Agent.
 *
 * `request` never follows redirects (unlike archeio's Go client, which follows up to 10): a bucket that redirects
 * is misconfigured for direct client pulls, and blob-probe.ts counts 3xx as an error so the breaker sees it. The
 * Agent's own connect/headers timeouts back up the probe's deadline.
 */
import { Agent, request } from 'undici';
import type { HeadFetcher } from './blob-probe.js';

export interface UndiciHeadFetcher {
  readonly fetch: HeadFetcher;
  close(): Promise<void>;
}

export function createHeadFetcher(opts: { timeoutMs: number; connections?: number }): UndiciHeadFetcher {
  const agent = new Agent({
    connections: opts.connections ?? 64,
    keepAliveTimeout: 30_000,
    connect: { timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  return {
    async fetch(url, signal) {
      const res = await request(url, { method: 'HEAD', signal, dispatcher: agent });
      await res.body.dump();
      return res.statusCode;
    },
    close: () => agent.close(),
  };
}
