import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CheckFailure, NotApplicable } from '../results/check.js';
import { isCi, locateTool } from '../clients/external-tool.js';
import { DEFAULT_CHROMIUM_PATH, launchChromium } from './launch-chromium.js';

const chromium = await locateTool(process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH);

describe('launchChromium', () => {
  it.runIf(chromium !== null || isCi())('renders a page with a fresh profile and removes it on close', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent('<title>t</title><h1 id="x">hello</h1>');
      expect(await page.locator('#x').innerText()).toBe('hello');
    } finally {
      await browser.close();
    }
    await browser.close(); // idempotent
    expect(existsSync(browser.userDataDir)).toBe(false);
  });

  it('a missing executable is not applicable outside CI and a failure under CI=true', async () => {
    const saved = process.env.CI;
    try {
      delete process.env.CI;
      await expect(launchChromium({ executablePath: '/nonexistent/chromium' })).rejects.toBeInstanceOf(NotApplicable);
      process.env.CI = 'true';
      await expect(launchChromium({ executablePath: '/nonexistent/chromium' })).rejects.toBeInstanceOf(CheckFailure);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
