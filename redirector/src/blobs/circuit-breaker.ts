/**
 * A consecutive-failure circuit breaker, one per bucket.
 *
 * archeio has none: a hung bucket costs every blob request the full 5 s HEAD timeout
 * (docs/reference/archeio.md#existence-check-and-cache), and a dead bucket needed a code change (8195341, me-south-1).
 * A maintainer's fork uses "5 failures → skip 30 s"; these are our defaults too. States:
 *  - closed: HEADs go out; `threshold` consecutive failures open it;
 *  - open: no HEADs, blob requests go upstream at once, for `cooldownMs`;
 *  - half-open: after the cool-down exactly one trial HEAD goes out; success closes, failure re-opens.
 * A threshold of 0 disables the breaker (it never opens).
 */
import type { Clock } from './clock.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private current: BreakerState = 'closed';
  private trialInFlight = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly clock: Clock,
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** True while requests must skip the bucket; never changes state (safe on the hot path). */
  blocked(): boolean {
    if (this.current === 'closed') return false;
    if (this.current === 'half-open') return this.trialInFlight;
    return this.clock.now() < this.openUntil;
  }

  /**
   * True when the bucket's last answer was a failure (or a trial is due or out): its cached "yes" answers are not
   * to be trusted until it answers sensibly again (blob-probe.ts asks again instead of serving them).
   */
  suspect(): boolean {
    return this.current !== 'closed' || this.failures > 0;
  }

  /** Asks to send a HEAD now. In half-open state only the first caller gets to (the trial). */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.clock.now() < this.openUntil) return false;
      this.set('half-open');
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** The bucket answered sensibly (200, or a 4xx "no such object"). */
  success(): void {
    this.trialInFlight = false;
    this.failures = 0;
    if (this.current !== 'closed') this.set('closed');
  }

  /** The bucket failed: a transport error, a timeout, 5xx, 429. */
  failure(): void {
    this.trialInFlight = false;
    if (this.threshold <= 0) return;
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.threshold) {
      this.openUntil = this.clock.now() + this.cooldownMs;
      if (this.current !== 'open') this.set('open');
    }
  }

  private set(state: BreakerState): void {
    this.current = state;
    this.onChange(state);
  }
}
