// Browser tests drive Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH) with playwright-core.
//
//   const chromiumFound = requireChromium();
//   describe.skipIf(!chromiumFound)('console in a browser', () => { … });
//
// Locally a missing Chromium skips the suite loudly (apt-get install chromium); under CI=true it
// throws, so the run fails instead (.ci/run installs the package when missing).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TEST_ADMIN_PASSWORD } from './paycenter.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function requireChromium(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true') throw new Error(`Chromium is not at ${CHROMIUM_PATH}, and under CI the browser tests must run (.ci/run installs it)`);
  process.stderr.write(
    `\n${'!'.repeat(72)}\n!!! SKIPPING the browser tests: no Chromium at ${CHROMIUM_PATH}\n` +
      `!!! Install it (apt-get install chromium) or set CHROMIUM_PATH. Under CI this fails the run.\n${'!'.repeat(72)}\n\n`,
  );
  return false;
}

/** Headless, and quiet on this closed network (no background connections to Google). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Signs in through the sign-in form and waits for the dashboard. */
export async function signInInBrowser(page: Page, baseUrl: string, username = 'admin', password = TEST_ADMIN_PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/console/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console(\?.*)?$/);
}

/**
 * With PAYCENTER_SCREENSHOTS=1 (npm run screenshots), saves the page as docs/screenshots/<name>.png
 * for the README; otherwise does nothing.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.PAYCENTER_SCREENSHOTS !== '1') return;
  const dir = join(process.cwd(), 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
