/**
 * Whether a benchmark met its goal, said with the noise of this machine taken into account.
 *
 * A benchmark here repeats its measurement in rounds (fresh processes each) and reports the median round. On a shared
 * VM one round can sit 15% from the next, so a median a little above or below the goal says little by itself. The
 * interval below is distribution-free: whatever the distribution of a round's value, each round falls below the true
 * median with probability ½, independently, so the interval between the k-th smallest and the k-th largest of n rounds
 * misses the true median only when at least n − k + 1 rounds fall on one side of it:
 * confidence = 1 − 2 · P(Binomial(n, ½) ≤ k − 1). No normality is assumed, which the bimodal rounds here would break.
 *
 * The verdict is `met` or `missed` only when the whole interval lies on one side of the goal; otherwise `undecided`
 * (more rounds would settle it). Five rounds are the fewest that reach 90% (min to max: 93.75%).
 */

export interface MedianInterval {
  /** the median of the values (the upper middle one for an even count, as the benchmarks report it) */
  readonly median: number;
  readonly low: number;
  readonly high: number;
  /** the probability that the interval holds the true median, exactly */
  readonly confidence: number;
  /** how many values (rounds) it was taken from */
  readonly rounds: number;
}

export type Verdict = 'met' | 'missed' | 'undecided';

export interface GoalVerdict extends MedianInterval {
  readonly goal: number;
  readonly direction: 'at-least' | 'at-most';
  /** the confidence asked for: below it, the verdict is `undecided` whatever the interval */
  readonly wanted: number;
  readonly verdict: Verdict;
}

/** The value at share `p` of the sorted values (the benchmarks' p50, p90): the one at index ⌊n·p⌋, capped at the last. */
export function quantile(values: readonly number[], p: number): number {
  return [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
}

/** The median as the benchmarks report it: the middle value, the upper of the two middle ones for an even count. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** P(Binomial(n, ½) ≤ k), exactly (n is a count of rounds: small). */
export function binomialHalfCdf(n: number, k: number): number {
  if (k < 0) return 0;
  let term = 1; // C(n, 0)
  let sum = 0;
  for (let i = 0; i <= Math.min(k, n); i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

/**
 * The narrowest interval between order statistics (k-th smallest, k-th largest) that holds the true median with at
 * least `wanted` confidence; when even min to max falls short of it (too few rounds), min to max with what it reaches.
 */
export function medianInterval(values: readonly number[], wanted = 0.9): MedianInterval {
  if (values.length === 0) throw new RangeError('medianInterval: no values');
  if (values.some((v) => !Number.isFinite(v)))
    throw new RangeError(`medianInterval: not a finite number in ${values.join(', ')}`);
  if (!(wanted > 0 && wanted < 1))
    throw new RangeError(`medianInterval: confidence must be between 0 and 1, not ${wanted}`);
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const coverage = (k: number): number => 1 - 2 * binomialHalfCdf(n, k - 1);
  let k = 1;
  // narrow the interval while the next one in (k + 1 from each end: it exists while 2k + 1 ≤ n) still reaches it
  while (2 * k + 1 <= n && coverage(k + 1) >= wanted) k++;
  return { median: median(values), low: sorted[k - 1]!, high: sorted[n - k]!, confidence: coverage(k), rounds: n };
}

/** The verdict on a goal for the median of `values` (`at-least`: the median must reach `goal`; `at-most`: not exceed it). */
export function goalVerdict(
  values: readonly number[],
  goal: number,
  direction: GoalVerdict['direction'],
  wanted = 0.9,
): GoalVerdict {
  const interval = medianInterval(values, wanted);
  const reaches = (v: number): boolean => (direction === 'at-least' ? v >= goal : v <= goal);
  let verdict: Verdict = 'undecided';
  if (interval.confidence >= wanted && reaches(interval.low) === reaches(interval.high))
    verdict = reaches(interval.low) ? 'met' : 'missed';
  return { ...interval, goal, direction, wanted, verdict };
}

/** One line for a benchmark's output, e.g. `goal ≥ 0.45: missed (median 0.33; 94% interval 0.32-0.38, 5 rounds)`. */
export function verdictLine(v: GoalVerdict, digits = 2, unit = 'rounds'): string {
  const pct = Math.floor(v.confidence * 100);
  const why =
    v.confidence < v.wanted
      ? `; ${v.rounds} ${unit} reach only ${pct}%, ${Math.round(v.wanted * 100)}% wanted: run more`
      : '';
  return `goal ${v.direction === 'at-least' ? '≥' : '≤'} ${v.goal}: ${v.verdict} (median ${v.median.toFixed(digits)}; ${pct}% interval ${v.low.toFixed(digits)}-${v.high.toFixed(digits)}, ${v.rounds} ${unit}${why})`;
}
