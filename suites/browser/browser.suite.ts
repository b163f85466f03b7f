/**
 * browser: what a person sees, with playwright-core driving Debian's chromium
 * (harness/src/browser/launch-chromium.ts):
 *
 * - `/` and `/privacy` through the redirector land on the target's info and privacy pages, and those render;
 * - the HTML report renders with its routing map: a real results set (the landing routes from every vantage,
 *   judged by the routing oracle) is run, written with the harness's report writer, opened from disk, checked for
 *   the map and one row per vantage, and screenshotted into the report directory.
 *
 * chromium missing: not applicable, or a failure under CI=true (clients/external-tool.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page, Response } from 'playwright-core';
import {
  launchChromium,
  CheckFailure,
  NotApplicable,
  defaultReportDir,
  runChecks,
  vantageRoute,
  writeReports,
  type Check,
  type CheckContext,
  type Hop,
  type TargetDescription,
} from '../../harness/src/index.js';
import { landingRouteChecks } from './landing-route-checks.js';

export const BROWSER_SUITE = 'browser';

export interface BrowserSuiteOptions {
  /**
   * the run's report directory; screenshots and the rendered report go to its `browser/` folder. Default
   * $REGISTRY_CANARY_REPORT_DIR, else reports/<timestamp> (the suites under vitest, which write no run report)
   */
  reportDir?: string;
}

/**
 * The URL a browser starts from: a header-less route through an edge port when the target has one (the browser
 * cannot set X-Forwarded-For), else the redirector URL itself (the landing rules do not depend on the client).
 */
export function landingBase(target: TargetDescription): string {
  const ordered = [...target.vantages.filter((v) => v.cloud === null), ...target.vantages];
  for (const v of ordered) {
    try {
      return vantageRoute(target, v, { headerless: true }).baseUrl;
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw err;
    }
  }
  return target.url;
}

function sameUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const path = (u: URL) => u.pathname.replace(/\/+$/, '') || '/';
    return x.origin === y.origin && path(x) === path(y) && x.search === y.search;
  } catch {
    return false;
  }
}

/** The redirect chain of a navigation as hops (first request first). */
async function chainOf(response: Response): Promise<Hop[]> {
  const requests = [];
  for (let r: ReturnType<Response['request']> | null = response.request(); r !== null; r = r.redirectedFrom())
    requests.unshift(r);
  const hops: Hop[] = [];
  for (const r of requests) {
    const res = await r.response();
    const headers = res ? await res.allHeaders() : {};
    const timing = r.timing();
    hops.push({
      method: r.method(),
      url: r.url(),
      status: res?.status() ?? 0,
      ...(headers.location ? { location: headers.location } : {}),
      headers: Object.fromEntries(
        Object.entries(headers).filter(([k]) => ['location', 'content-type', 'cache-control'].includes(k)),
      ),
      startMs: timing.startTime,
      durationMs: timing.responseEnd,
    });
  }
  return hops;
}

async function visibleText(page: Page): Promise<string> {
  return (
    await page
      .locator('body')
      .innerText({ timeout: 5_000 })
      .catch(() => '')
  ).trim();
}

function landingCheck(target: TargetDescription, path: '/' | '/privacy', expectedUrl: string, what: string): Check {
  return {
    id: `${BROWSER_SUITE}/${path === '/' ? 'info-page' : 'privacy-page'}`,
    suite: BROWSER_SUITE,
    title: `a browser opening ${path} through the redirector lands on the ${what} and it renders`,
    rule: `redirector rule 2: ${path} → 307 ${path === '/' ? 'INFO_URL' : 'PRIVACY_URL'} (docs/reference/archeio.md#decision-list step 3)`,
    async run(ctx: CheckContext) {
      const start = `${landingBase(target).replace(/\/+$/, '')}${path}`;
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const response = await page.goto(start, { waitUntil: 'load' });
        if (response === null) throw new CheckFailure('availability', `opening ${start} produced no response`);
        const hops = await chainOf(response);
        ctx.record?.(hops, { start, finalUrl: page.url() });
        const first = hops[0];
        if (!first || first.status !== 307) {
          throw new CheckFailure(
            'routing',
            `${start} answered ${first?.status ?? 'nothing'}${first?.location ? ` → ${first.location}` : ''}, expected 307 → ${expectedUrl}`,
            hops,
          );
        }
        if (!first.location || !sameUrl(new URL(first.location, start).href, expectedUrl)) {
          throw new CheckFailure('routing', `${start} redirected to ${first.location}, expected ${expectedUrl}`, hops);
        }
        if (!hops.some((h) => sameUrl(h.url, expectedUrl))) {
          throw new CheckFailure(
            'routing',
            `the browser never requested ${expectedUrl} (chain: ${hops.map((h) => h.url).join(' → ')})`,
            hops,
          );
        }
        if (response.status() >= 400) {
          const cls = response.status() >= 500 ? 'availability' : 'conformance';
          throw new CheckFailure(cls, `the ${what} at ${page.url()} answered ${response.status()}`, hops);
        }
        const title = (await page.title()).trim();
        const text = await visibleText(page);
        if (title === '' && text === '')
          throw new CheckFailure(
            'conformance',
            `the ${what} at ${page.url()} rendered nothing (no title, no text)`,
            hops,
          );
      } finally {
        await browser.close();
      }
    },
  };
}

function reportCheck(target: TargetDescription, options: BrowserSuiteOptions): Check {
  return {
    id: `${BROWSER_SUITE}/report-routing-map`,
    suite: BROWSER_SUITE,
    title: 'the HTML report renders with its routing map, one row per vantage (screenshot in the report directory)',
    rule: 'docs/harness.md#reports: index.html with a map of vantage → target (harness/src/report/html-report.ts hooks: #verdict, table#routing-map, td.vantage)',
    async run(ctx: CheckContext) {
      const dir = resolve(
        options.reportDir ?? process.env.REGISTRY_CANARY_REPORT_DIR ?? defaultReportDir(new Date(), 'reports'),
        'browser',
      );
      await mkdir(dir, { recursive: true });
      // A real results set: the landing routes from every vantage. Its own verdict is not this check's business.
      const report = await runChecks({
        target,
        checks: landingRouteChecks(target),
        suites: ['browser'],
        preflight: false,
        concurrency: 4,
        signal: ctx.signal,
      });
      const written = await writeReports(report, join(dir, 'landing-routes'));
      const browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
      try {
        const page = await browser.newPage();
        await page.goto(pathToFileURL(written.indexHtml).href, { waitUntil: 'load' });
        const screenshot = join(dir, 'report-routing-map.png');
        await page.screenshot({ path: screenshot, fullPage: true });
        ctx.record?.([], { report: written.indexHtml, screenshot });
        if ((await page.locator('#verdict[data-exit-code]').count()) !== 1) {
          throw new CheckFailure('harness', `${written.indexHtml} has no #verdict element (screenshot: ${screenshot})`);
        }
        const map = page.locator('table#routing-map');
        if ((await map.count()) !== 1)
          throw new CheckFailure(
            'harness',
            `${written.indexHtml} has no table#routing-map (screenshot: ${screenshot})`,
          );
        if (!(await map.isVisible()))
          throw new CheckFailure(
            'harness',
            `the routing map of ${written.indexHtml} is not visible (screenshot: ${screenshot})`,
          );
        const rows = await map.locator('td.vantage b').allInnerTexts();
        const expected = target.vantages.map((v) => v.name);
        const missing = expected.filter((n) => !rows.includes(n));
        if (rows.length !== expected.length || missing.length > 0) {
          throw new CheckFailure(
            'harness',
            `the routing map has ${rows.length} vantage row(s), the target has ${expected.length}${missing.length ? ` (missing ${missing.join(', ')})` : ''} (screenshot: ${screenshot})`,
          );
        }
        const cells = await map.locator('td.cell[data-vantage][data-kind]').count();
        if (cells < expected.length)
          throw new CheckFailure(
            'harness',
            `the routing map has ${cells} cells for ${expected.length} vantages (screenshot: ${screenshot})`,
          );
      } finally {
        await browser.close();
      }
    },
  };
}

export function browserChecks(target: TargetDescription, options: BrowserSuiteOptions = {}): Check[] {
  return [
    landingCheck(target, '/', target.infoUrl, 'info page'),
    landingCheck(target, '/privacy', target.privacyUrl, 'privacy page'),
    reportCheck(target, options),
  ];
}
