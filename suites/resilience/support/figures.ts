/**
 * Every resilience check states its figure. A figure is printed as the test runs and collected into
 * `reports/resilience/<area>.json`, from which docs/reliability.md's table is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../harness/src/index.js';

export interface Figure {
  /** the check, e.g. "bucket 503: added latency while failing" */
  check: string;
  /** what was measured, in words with the number, e.g. "p99 +251.3 ms over 160 requests" */
  figure: string;
  value: number;
  unit: string;
  /** the bar it is held to, e.g. "≤ 300 ms" */
  bar: string;
  ok: boolean;
  details?: Record<string, unknown>;
}

export class FigureLog {
  private readonly figures: Figure[] = [];
  private readonly started = new Date().toISOString();

  constructor(private readonly area: string) {}

  record(f: Figure): Figure {
    // the machine is shared: every figure carries the load it was measured under
    this.figures.push({ ...f, details: { ...(f.details ?? {}), loadAverage: loadAverage() } });
    process.stdout.write(`[resilience] ${f.ok ? 'ok  ' : 'MISS'} ${f.check}: ${f.figure} (bar ${f.bar})\n`);
    this.flush();
    return f;
  }

  private flush(): void {
    const dir = join(packageRoot(), 'reports', 'resilience');
    mkdirSync(dir, { recursive: true });
    const doc = {
      area: this.area,
      started: this.started,
      written: new Date().toISOString(),
      loadAverage: loadAverage(),
      figures: this.figures,
    };
    writeFileSync(join(dir, `${this.area}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  }
}

function loadAverage(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}
