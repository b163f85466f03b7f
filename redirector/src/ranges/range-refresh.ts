/**
 * Replacing the range table at run time, safely.
 *
 * archeio freezes its ranges at build time (a codegen step, then a redeploy, 2-4 times a year); distribution's
 * cloudfront middleware refetches every 12 h and uses whatever parses (docs/reference/archeio.md#other-redirectors). We
 * refetch on an interval and swap only data that passes validateRefresh, building the new classifier off to the side
 * and swapping one reference, so lookups never see a half-built table and a bad publication never replaces a good one
 *.
 */
import { IpClassifier } from './ip-classifier.js';
import type { Semantics } from './ip-classifier.js';
import { parseRangeTexts } from './load-range-data.js';
import type { RangeTexts } from './load-range-data.js';
import type { Cloud, CloudKey, RangeData, RangeSources } from './range-data.js';
import { createRangeTextReader } from './range-text-reader.js';
import type { ReadRangeText } from './range-text-reader.js';

const KEYS: ReadonlyArray<{ key: CloudKey; cloud: Cloud }> = [
  { key: 'aws', cloud: 'AWS' },
  { key: 'gcp', cloud: 'GCP' },
  { key: 'azure', cloud: 'Azure' },
];

export class RangeRefreshOptionsError extends Error {
  readonly code = 'RANGE_REFRESH_OPTIONS_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RangeRefreshOptionsError';
  }
}

function countByCloud(data: RangeData): Record<Cloud, number> {
  const n: Record<Cloud, number> = { AWS: 0, GCP: 0, Azure: 0 };
  for (const e of data.entries) n[e.cloud]++;
  return n;
}

/**
 * Decides whether `next` may replace `prev`. Per cloud:
 *  - its order (syncToken / changeNumber) must not go backwards: older is rejected, equal means that cloud is
 *    unchanged (its new entries are ignored: mergeRangeData keeps the serving ones);
 *  - it must not be empty;
 *  - it must not lose more than `maxShrink` (a fraction, 0.1 = 10%) of its prefixes.
 * `changed` is true when at least one cloud is newer. (Parsing, the first rule, happened before: parseRangeTexts.)
 * The empty and shrink rules apply to every cloud, newer or not: a publication that lost a third of its prefixes
 * without a new version is as suspect as one that did with.
 */
export function validateRefresh(
  prev: RangeData,
  next: RangeData,
  opts: { maxShrink: number },
): { ok: true; changed: boolean } | { ok: false; reason: string } {
  const before = countByCloud(prev);
  const after = countByCloud(next);
  let changed = false;
  for (const { key, cloud } of KEYS) {
    if (next.order[key] < prev.order[key]) {
      return {
        ok: false,
        reason: `${cloud} publication ${next.versions[key]} (order ${next.order[key]}) is older than the serving ${prev.versions[key]} (order ${prev.order[key]})`,
      };
    }
    if (after[cloud] === 0) return { ok: false, reason: `${cloud} publication ${next.versions[key]} has no prefixes` };
    const floor = before[cloud] * (1 - opts.maxShrink);
    if (after[cloud] < floor) {
      const lost = ((before[cloud] - after[cloud]) / before[cloud]) * 100;
      return {
        ok: false,
        reason: `${cloud} publication ${next.versions[key]} has ${after[cloud]} prefixes, ${lost.toFixed(1)}% fewer than the serving ${before[cloud]}; at most ${(opts.maxShrink * 100).toFixed(1)}% may go at once`,
      };
    }
    if (next.order[key] > prev.order[key]) changed = true;
  }
  return { ok: true, changed };
}

/** Per cloud, the newer publication of the two (prev's when the orders are equal). */
export function mergeRangeData(prev: RangeData, next: RangeData): RangeData {
  const pick = (key: CloudKey): RangeData => (next.order[key] > prev.order[key] ? next : prev);
  const entries = KEYS.flatMap(({ key, cloud }) => pick(key).entries.filter((e) => e.cloud === cloud));
  return {
    entries,
    versions: { aws: pick('aws').versions.aws, gcp: pick('gcp').versions.gcp, azure: pick('azure').versions.azure },
    order: { aws: pick('aws').order.aws, gcp: pick('gcp').order.gcp, azure: pick('azure').order.azure },
  };
}

export interface RangeRefresherOptions {
  /** file paths or http(s) URLs */
  sources: RangeSources;
  semantics: Semantics;
  /** the table serving now (built from the start-up data) */
  initial: IpClassifier;
  /** time between the end of one refresh and the start of the next */
  intervalMs: number;
  /** see validateRefresh; a fraction from 0 to 1 */
  maxShrink: number;
  /** default: createRangeTextReader() (files, or undici with a 30 s deadline) */
  readText?: ReadRangeText;
  onSwap?: (classifier: IpClassifier) => void;
  onReject?: (reason: string) => void;
  /** default: an unref'd setTimeout, so a pending refresh never keeps the process alive */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export type RefreshOutcome = { outcome: 'swapped' | 'unchanged' | 'rejected'; reason?: string };

export class RangeRefresher {
  private classifier: IpClassifier;
  private readonly readText: ReadRangeText;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private timer: unknown;
  private running = false;
  private inFlight: Promise<RefreshOutcome> | undefined;
  private readonly aborts = new Set<AbortController>();

  constructor(private readonly opts: RangeRefresherOptions) {
    if (!(Number.isFinite(opts.intervalMs) && opts.intervalMs > 0)) {
      throw new RangeRefreshOptionsError(
        `refresh interval must be a positive number of milliseconds, got ${opts.intervalMs}`,
      );
    }
    if (!(opts.maxShrink >= 0 && opts.maxShrink <= 1)) {
      throw new RangeRefreshOptionsError(`maximum shrink must be a fraction from 0 to 1, got ${opts.maxShrink}`);
    }
    this.classifier = opts.initial;
    this.readText = opts.readText ?? createRangeTextReader();
    this.setTimer =
      opts.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return t;
      });
    this.clearTimer = opts.clearTimer ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
  }

  /** The table to use for the next lookup. */
  get current(): IpClassifier {
    return this.classifier;
  }

  /** Fetches, validates and (if newer and sane) swaps. Never rejects; concurrent calls share one attempt. */
  refreshOnce(): Promise<RefreshOutcome> {
    this.inFlight ??= this.attempt().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Refreshes every intervalMs until stop(). Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops the timer and abandons an in-flight fetch. The current table keeps serving. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    for (const a of this.aborts) a.abort(new Error('range refresher stopped'));
  }

  private schedule(): void {
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      // attempt() catches everything; the catch is a second net so the timer chain can never die.
      void this.refreshOnce()
        .catch(() => undefined)
        .then(() => {
          if (this.running) this.schedule();
        });
    }, this.opts.intervalMs);
  }

  private async attempt(): Promise<RefreshOutcome> {
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      const { sources } = this.opts;
      let texts: RangeTexts;
      try {
        const [aws, gcp, azure] = await Promise.all(KEYS.map(({ key }) => this.readText(sources[key], abort.signal)));
        texts = { aws: aws!, gcp: gcp!, azure: azure! };
      } catch (err) {
        return this.reject(`cannot read the publications: ${(err as Error).message}`);
      }
      let next: RangeData;
      let built: IpClassifier;
      try {
        next = parseRangeTexts(texts, sources);
        const verdict = validateRefresh(this.classifier.data, next, { maxShrink: this.opts.maxShrink });
        if (!verdict.ok) return this.reject(verdict.reason);
        if (!verdict.changed) return { outcome: 'unchanged' };
        built = IpClassifier.build(mergeRangeData(this.classifier.data, next), this.opts.semantics);
      } catch (err) {
        return this.reject((err as Error).message);
      }
      this.classifier = built;
      notify(this.opts.onSwap, built);
      return { outcome: 'swapped' };
    } finally {
      this.aborts.delete(abort);
    }
  }

  private reject(reason: string): RefreshOutcome {
    notify(this.opts.onReject, reason);
    return { outcome: 'rejected', reason };
  }
}

/** Calls a listener, ignoring its failure: a broken log hook must not stop the refresher or undo a swap. */
function notify<T>(listener: ((value: T) => void) | undefined, value: T): void {
  try {
    listener?.(value);
  } catch {
    // deliberately ignored (see above)
  }
}
