/**
 * Headless Debian chromium under playwright-core. No browser download ever happens: the
 * executable is given explicitly, because no playwright `channel` points at Debian's build. Each launch gets a
 * fresh user-data-dir (so no profile, cache or cookie leaks between checks), removed again by `close()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { requireTool } from '../clients/external-tool.js';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags every launch uses: headless, no sandbox (root in CI), and nothing that phones home. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export interface ChromiumOptions {
  /** defaults to $CHROMIUM_PATH, then /usr/bin/chromium */
  executablePath?: string;
  viewport?: { width: number; height: number };
  /** navigation and action timeout, ms */
  timeoutMs?: number;
}

export interface LaunchedChromium {
  context: BrowserContext;
  /** the fresh profile directory (removed by close) */
  userDataDir: string;
  newPage(): Promise<Page>;
  /** closes the browser and removes its user-data-dir; idempotent */
  close(): Promise<void>;
}

/**
 * Launches chromium or throws what the check should report: NotApplicable when it is not installed, CheckFailure
 * under CI=true (see clients/external-tool.ts).
 */
export async function launchChromium(opts: ChromiumOptions = {}): Promise<LaunchedChromium> {
  const wanted = opts.executablePath ?? process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH;
  const executablePath = await requireTool(wanted, 'apt-get install chromium');
  const userDataDir = await mkdtemp(join(tmpdir(), 'rc-chromium-'));
  let context: BrowserContext;
  try {
    // loaded here, not at import: playwright-core takes most of a second to load, and only the browser suite needs it
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: opts.viewport ?? { width: 1280, height: 900 },
      timeout: opts.timeoutMs ?? 30_000,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(opts.timeoutMs ?? 30_000);
  let closed = false;
  return {
    context,
    userDataDir,
    newPage: () => context.newPage(),
    close: async () => {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
