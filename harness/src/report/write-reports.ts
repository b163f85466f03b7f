/**
 * Writes the three report files of a run into one directory: results.json (the whole RunReport: every check with
 * its hop trace, the redacted target, timings, roll-up, counts by class), junit.xml and index.html.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from '../results/run-report.js';
import { htmlReport } from './html-report.js';
import { junitXml } from './junit-xml.js';

export interface WrittenReports {
  dir: string;
  resultsJson: string;
  junitXml: string;
  indexHtml: string;
}

export function resultsJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export async function writeReports(report: RunReport, dir: string): Promise<WrittenReports> {
  await mkdir(dir, { recursive: true });
  const files = {
    resultsJson: join(dir, 'results.json'),
    junitXml: join(dir, 'junit.xml'),
    indexHtml: join(dir, 'index.html'),
  };
  await Promise.all([
    writeFile(files.resultsJson, resultsJson(report)),
    writeFile(files.junitXml, junitXml(report)),
    writeFile(files.indexHtml, htmlReport(report)),
  ]);
  return { dir, ...files };
}

/** `reports/<timestamp>/`, the default report directory (a timestamp that sorts and is safe in file names). */
export function defaultReportDir(now = new Date(), root = 'reports'): string {
  return join(root, now.toISOString().replace(/[:.]/g, '-'));
}
