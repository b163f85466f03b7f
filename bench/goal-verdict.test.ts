import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binomialHalfCdf, goalVerdict, medianInterval, verdictLine } from './goal-verdict.js';

/**
 * The brute-force twin of the interval's confidence: every one of the 2^n ways the rounds can fall below or above the
 * true median is equally likely; [k-th smallest, k-th largest] holds the median when at least k fall on each side.
 */
function enumeratedCoverage(n: number, k: number): number {
  let hits = 0;
  for (let pattern = 0; pattern < 2 ** n; pattern++) {
    let below = 0;
    for (let i = 0; i < n; i++) if (pattern & (1 << i)) below++;
    if (below >= k && n - below >= k) hits++;
  }
  return hits / 2 ** n;
}

/** the k of an interval: its low end's rank among the sorted values (distinct values) */
const rankOf = (values: number[], low: number): number => [...values].sort((a, b) => a - b).indexOf(low) + 1;

describe('binomialHalfCdf', () => {
  it('equals the enumerated tail for every n up to 16', () => {
    for (let n = 1; n <= 16; n++) {
      for (let k = -1; k <= n; k++) {
        let count = 0;
        for (let pattern = 0; pattern < 2 ** n; pattern++) {
          let ones = 0;
          for (let i = 0; i < n; i++) if (pattern & (1 << i)) ones++;
          if (ones <= k) count++;
        }
        expect(binomialHalfCdf(n, k)).toBeCloseTo(count / 2 ** n, 12);
      }
    }
  });
});

describe('medianInterval', () => {
  it('five rounds: min to max, 93.75%; four reach only 87.5%', () => {
    expect(medianInterval([0.33, 0.32, 0.38, 0.33, 0.34])).toEqual({
      median: 0.33,
      low: 0.32,
      high: 0.38,
      confidence: 0.9375,
      rounds: 5,
    });
    expect(medianInterval([4, 1, 3, 2]).confidence).toBe(0.875);
  });

  it('nine rounds: the second smallest to the second largest (96%), since the third in reaches only 82%', () => {
    const v = medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5]);
    expect([v.low, v.median, v.high]).toEqual([2, 5, 8]);
    expect(v.confidence).toBeCloseTo(1 - 20 / 512, 12);
  });

  it('for any rounds: the confidence is the enumerated one, the narrowest that reaches what was asked', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 14 }),
        fc.constantFrom(0.5, 0.8, 0.9, 0.95, 0.99),
        (values, wanted) => {
          const v = medianInterval(values, wanted);
          const n = values.length;
          const k = rankOf(values, v.low);
          expect(v.high).toBe([...values].sort((a, b) => a - b)[n - k]);
          expect(v.confidence).toBeCloseTo(enumeratedCoverage(n, k), 12);
          expect(v.low).toBeLessThanOrEqual(v.median);
          expect(v.median).toBeLessThanOrEqual(v.high);
          if (k === 1) return; // min to max: the widest there is, whether or not it reaches `wanted`
          expect(v.confidence).toBeGreaterThanOrEqual(wanted);
          // the next interval in would not have been enough (or does not exist)
          if (k + 1 <= n - k) expect(enumeratedCoverage(n, k + 1)).toBeLessThan(wanted);
        },
      ),
    );
  });

  it('holds the true median as often as it says, on a skewed distribution (20,000 seeded trials of 7 rounds)', () => {
    // exponential rounds, true median ln 2; a seeded generator (mulberry32), so the test is deterministic
    let seed = 0x9e3779b9;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    let held = 0;
    let confidence = 0;
    const trials = 20_000;
    for (let i = 0; i < trials; i++) {
      const v = medianInterval(
        Array.from({ length: 7 }, () => -Math.log(1 - random())),
        0.8,
      );
      confidence = v.confidence;
      if (v.low <= Math.LN2 && Math.LN2 <= v.high) held++;
    }
    // 80% asked: the second smallest to the second largest of 7 (87.5%; the third in would reach only 55%)
    expect(confidence).toBe(0.875);
    expect(Math.abs(held / trials - confidence)).toBeLessThan(0.01);
  });

  it('refuses what it cannot judge', () => {
    expect(() => medianInterval([])).toThrow(/no values/);
    expect(() => medianInterval([1, Number.NaN])).toThrow(/not a finite number/);
    expect(() => medianInterval([1, 2], 1)).toThrow(/between 0 and 1/);
  });
});

describe('goalVerdict', () => {
  it('missed only when the whole interval is on the wrong side; met only when on the right side', () => {
    expect(goalVerdict([0.33, 0.32, 0.33, 0.34, 0.38], 0.45, 'at-least').verdict).toBe('missed');
    expect(goalVerdict([0.46, 0.5, 0.47, 0.48, 0.52], 0.45, 'at-least').verdict).toBe('met');
    // a median above the goal is not enough while one round is below it
    expect(goalVerdict([0.44, 0.5, 0.47, 0.48, 0.52], 0.45, 'at-least').verdict).toBe('undecided');
    expect(goalVerdict([0.4, 0.41, 0.43, 0.46, 0.42], 0.45, 'at-least').verdict).toBe('undecided');
    // at-most: start-up times under 500 ms
    expect(goalVerdict([361, 380, 420, 333, 460], 500, 'at-most').verdict).toBe('met');
    expect(goalVerdict([561, 580, 520, 533, 660], 500, 'at-most').verdict).toBe('missed');
    // the goal itself counts as reached
    expect(goalVerdict([0.45, 0.45, 0.45, 0.45, 0.45], 0.45, 'at-least').verdict).toBe('met');
  });

  it('too few rounds decide nothing, however far from the goal', () => {
    const v = goalVerdict([0.1, 0.1, 0.1], 0.45, 'at-least');
    expect(v.verdict).toBe('undecided');
    expect(verdictLine(v)).toBe(
      'goal ≥ 0.45: undecided (median 0.10; 75% interval 0.10-0.10, 3 rounds; 3 rounds reach only 75%, 90% wanted: run more)',
    );
  });

  it('for any rounds and goal: met means every round in the interval reaches the goal, missed that none does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('at-least' as const, 'at-most' as const),
        (values, goal, direction) => {
          const v = goalVerdict(values, goal, direction);
          const inside = values.filter((x) => x >= v.low && x <= v.high);
          const reaches = (x: number): boolean => (direction === 'at-least' ? x >= goal : x <= goal);
          if (v.verdict === 'met') expect(inside.every(reaches)).toBe(true);
          if (v.verdict === 'missed') expect(inside.some(reaches)).toBe(false);
          if (v.verdict !== 'undecided') expect(v.confidence).toBeGreaterThanOrEqual(0.9);
          if (v.confidence >= 0.9 && inside.every(reaches)) expect(v.verdict).toBe('met');
        },
      ),
    );
  });

  it('the line a benchmark prints', () => {
    expect(verdictLine(goalVerdict([0.33, 0.32, 0.33, 0.34, 0.38], 0.45, 'at-least'))).toBe(
      'goal ≥ 0.45: missed (median 0.33; 93% interval 0.32-0.38, 5 rounds)',
    );
    expect(verdictLine(goalVerdict([361, 380, 420, 333, 460], 500, 'at-most'), 0, 'runs')).toBe(
      'goal ≤ 500: met (median 380; 93% interval 333-460, 5 runs)',
    );
  });
});
