/**
 * Wait strategies: how the stack decides a component is ready, each with a deadline.
 *
 * Modelled on testcontainers' wait strategies (one interface, a `Wait` facade, `forAll`), with time injected
 * through a Clock so unit tests can run a timeout without sleeping. A strategy resolves when ready and rejects with
 * a StackError (STACK_WAIT_TIMEOUT, or STACK_PROCESS_EXITED when the process it watches died first) otherwise.
 */
import { request } from 'undici';
import { StackError } from './stack-error.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** Lines a component printed, as they arrive; `exited` settles when the process behind them is gone. */
export interface LineSource {
  /** every line seen so far */
  lines(): readonly string[];
  /** called for each new line; returns an unsubscribe function */
  onLine(listener: (line: string) => void): () => void;
  /** resolves with a description of how the process ended; never rejects */
  exited: Promise<string>;
}

export interface WaitContext {
  clock: Clock;
  /** what is being waited on, for messages ("redirector", "upstream registry") */
  component: string;
  /** the output of the process behind the component, when there is one */
  output?: LineSource;
  /** aborts the wait (stack start-up cancelled) */
  signal?: AbortSignal;
}

export interface WaitStrategy<T = void> {
  readonly description: string;
  readonly timeoutMs: number;
  waitUntilReady(ctx: WaitContext): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function tail(output: LineSource | undefined, n = 8): string {
  if (!output) return '';
  const lines = output.lines().slice(-n);
  return lines.length ? `\n--- last output ---\n${lines.join('\n')}` : '';
}

function timeoutError(ctx: WaitContext, description: string, timeoutMs: number, detail = ''): StackError {
  return new StackError(
    'STACK_WAIT_TIMEOUT',
    `${ctx.component}: not ready after ${timeoutMs} ms (waiting for ${description})${detail ? `: ${detail}` : ''}${tail(ctx.output)}`,
  );
}

/**
 * Races `work` against the deadline, the process exiting and the abort signal. `work` receives a signal that fires
 * when the race is lost, so polling loops stop.
 */
async function race<T>(
  ctx: WaitContext,
  description: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  lastError: () => string,
): Promise<T> {
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(ctx.signal!.reason);
  ctx.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const contenders: Promise<T>[] = [work(stop.signal)];
  contenders.push(
    ctx.clock.sleep(timeoutMs, stop.signal).then(
      () => {
        throw timeoutError(ctx, description, timeoutMs, lastError());
      },
      () => new Promise<T>(() => {}),
    ),
  );
  if (ctx.output) {
    contenders.push(
      ctx.output.exited.then((how) => {
        throw new StackError(
          'STACK_PROCESS_EXITED',
          `${ctx.component}: ${how} before it was ready (waiting for ${description})${tail(ctx.output)}`,
        );
      }),
    );
  }
  if (ctx.signal) {
    contenders.push(
      new Promise<T>((_, reject) => {
        if (ctx.signal!.aborted) reject(new StackError('STACK_ABORTED', `${ctx.component}: start-up aborted`));
        ctx.signal!.addEventListener(
          'abort',
          () => reject(new StackError('STACK_ABORTED', `${ctx.component}: start-up aborted`)),
          { once: true },
        );
      }),
    );
  }
  try {
    return await Promise.race(contenders);
  } finally {
    stop.abort();
    ctx.signal?.removeEventListener('abort', onOuterAbort);
  }
}

export interface HttpWaitOptions {
  /** the status that means ready (default 200) */
  status?: number;
  method?: 'GET' | 'HEAD';
  /** ms between attempts (default 25: the stack's servers are local, so polling fast costs nothing) */
  intervalMs?: number;
  timeoutMs?: number;
  /** extra request headers (e.g. X-Forwarded-For) */
  headers?: Record<string, string>;
}

class HttpWaitStrategy implements WaitStrategy {
  readonly description: string;
  readonly timeoutMs: number;
  constructor(
    private readonly url: string,
    private readonly opts: HttpWaitOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.description = `${opts.method ?? 'GET'} ${url} → ${opts.status ?? 200}`;
  }
  waitUntilReady(ctx: WaitContext): Promise<void> {
    let last = 'no attempt yet';
    const want = this.opts.status ?? 200;
    return race(
      ctx,
      this.description,
      this.timeoutMs,
      async (signal) => {
        for (;;) {
          try {
            const res = await request(this.url, {
              method: this.opts.method ?? 'GET',
              headers: this.opts.headers,
              signal,
              headersTimeout: 2_000,
              bodyTimeout: 2_000,
            });
            await res.body.dump();
            if (res.statusCode === want) return;
            last = `last answer was ${res.statusCode}`;
          } catch (err) {
            if (signal.aborted) throw err;
            last = `last attempt failed: ${(err as Error).message}`;
          }
          await ctx.clock.sleep(this.opts.intervalMs ?? 25, signal);
        }
      },
      () => last,
    );
  }
}

class LogLineWaitStrategy implements WaitStrategy<RegExpExecArray> {
  readonly description: string;
  constructor(
    private readonly pattern: RegExp,
    readonly timeoutMs: number,
  ) {
    this.description = `a log line matching ${pattern}`;
  }
  waitUntilReady(ctx: WaitContext): Promise<RegExpExecArray> {
    const output = ctx.output;
    if (!output)
      return Promise.reject(
        new StackError('STACK_WAIT_TIMEOUT', `${ctx.component}: has no output to wait on for ${this.description}`),
      );
    return race(
      ctx,
      this.description,
      this.timeoutMs,
      (signal) =>
        new Promise<RegExpExecArray>((resolve) => {
          for (const line of output.lines()) {
            const m = this.pattern.exec(line);
            if (m) return resolve(m);
          }
          const off = output.onLine((line) => {
            const m = this.pattern.exec(line);
            if (m) {
              off();
              resolve(m);
            }
          });
          signal.addEventListener('abort', off, { once: true });
        }),
      () => '',
    );
  }
}

class AllWaitStrategy implements WaitStrategy {
  readonly description: string;
  constructor(
    private readonly strategies: readonly WaitStrategy<unknown>[],
    readonly timeoutMs: number,
  ) {
    this.description = strategies.map((s) => s.description).join(' and ');
  }
  waitUntilReady(ctx: WaitContext): Promise<void> {
    return race(
      ctx,
      this.description,
      this.timeoutMs,
      async () => {
        await Promise.all(this.strategies.map((s) => s.waitUntilReady(ctx)));
      },
      () => '',
    );
  }
}

/** The facade: `Wait.forHttp(url)`, `Wait.forLogLine(/listening on/)`, `Wait.forAll([...])`. */
export const Wait = {
  forHttp(url: string, opts: HttpWaitOptions = {}): WaitStrategy {
    return new HttpWaitStrategy(url, opts);
  },
  forLogLine(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): WaitStrategy<RegExpExecArray> {
    return new LogLineWaitStrategy(pattern, timeoutMs);
  },
  forAll(strategies: readonly WaitStrategy<unknown>[], timeoutMs = DEFAULT_TIMEOUT_MS): WaitStrategy {
    return new AllWaitStrategy(strategies, timeoutMs);
  },
};
