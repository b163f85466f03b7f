/**
 * Fetching a publication's text for a refresh: a file path (or file: URL) is read from disk, an http(s) URL is
 * fetched with undici's `request` (which, unlike `fetch`, follows no redirects: the publication URLs answer
 * directly, and a redirect to somewhere else is a reason to stop). Each read has a deadline and a size cap, so a
 * hung or runaway source cannot stall or bloat the server; the refresher keeps the last good table either way.
 *
 * undici is imported on the first URL read, not with this module: the server imports the refresher at start-up, and
 * loading undici there cost ~60 ms before the listening line (docs/performance.md), for a read minutes away at best.
 *
 * Azure has no stable URL: the weekly ServiceTags_Public_<date>.json link must be resolved by whoever configures
 * AZURE_IP_RANGES (or the file downloaded out of band).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';

export type ReadRangeText = (source: string, signal: AbortSignal) => Promise<string>;

export class RangeFetchError extends Error {
  readonly code = 'RANGE_FETCH_FAILED' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RangeFetchError';
  }
}

export interface RangeTextReaderOptions {
  /** deadline for one read, default 30 s */
  timeoutMs?: number;
  /** largest accepted body, default 64 MiB (the full Azure file is ~5 MB, AWS ~2.5 MB) */
  maxBytes?: number;
  /** undici dispatcher for URLs (tests pass a MockAgent); default: undici's global dispatcher */
  dispatcher?: Dispatcher;
}

export function isUrlSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

export function createRangeTextReader(opts: RangeTextReaderOptions = {}): ReadRangeText {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  return async (source, signal) => {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    if (!isUrlSource(source)) {
      const path = source.startsWith('file:') ? fileURLToPath(source) : source;
      try {
        return await readFile(path, { encoding: 'utf8', signal: deadline });
      } catch (err) {
        throw new RangeFetchError(`cannot read ${source}: ${(err as Error).message}`, { cause: err });
      }
    }
    let res: Dispatcher.ResponseData;
    try {
      const { request } = await import('undici');
      res = await request(source, {
        method: 'GET',
        signal: deadline,
        headers: { accept: 'application/json' },
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      });
    } catch (err) {
      throw new RangeFetchError(`cannot fetch ${source}: ${(err as Error).message}`, { cause: err });
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      throw new RangeFetchError(`cannot fetch ${source}: HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) break;
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      // The connection failed mid-body (MockAgent cannot fake this, so it is untested).
      throw new RangeFetchError(`cannot fetch ${source}: ${(err as Error).message}`, { cause: err });
    }
    if (size > maxBytes) {
      res.body.destroy();
      throw new RangeFetchError(`cannot fetch ${source}: the body exceeds ${maxBytes} bytes`);
    }
    return Buffer.concat(chunks).toString('utf8');
  };
}
