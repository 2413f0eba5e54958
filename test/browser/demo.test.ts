// The demo checkout in Chromium: five fast clicks of "Submit order" make one order and the page
// says so; a WeChat Pay QR code is drawn and paid in the sandbox wallet, an Alipay and a UnionPay
// payment go through the sandbox cashiers; the order page follows PAYING → PAID live and lists the
// shop's order.paid webhook. At 390 px nothing scrolls sideways, and the shop works by keyboard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, requireChromium, screenshot } from '../helpers/browser.ts';
import { paycenterPerFile } from '../helpers/paycenter.ts';

const chromiumFound = requireChromium();
const pc = paycenterPerFile();

const ORDER_ID = /ord_[\w-]+/;
/** The page follows the order by polling every 500 ms; a payment is notified within milliseconds. */
const LIVE_TIMEOUT_MS = 10_000;

describe.skipIf(!chromiumFound)('the demo checkout in a browser', () => {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /**
   * Script errors, CSP violations and failed requests of every page opened, reported by the test
   * that caused them. The sandbox cashiers' pages have no icon, so the browser's /favicon.ico 404 is not one.
   */
  let problems: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
  });

  async function open(width: number, height: number): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width, height } });
    contexts.push(context);
    problems = [];
    context.on('page', watch);
    const page = await context.newPage();
    return { context, page };
  }

  function watch(page: Page): void {
    page.on('pageerror', (err) => problems.push(`${page.url()}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400 && new URL(res.url()).pathname !== '/favicon.ico') problems.push(`${res.status()} ${res.url()}`);
    });
  }

  /** Opens the shop, submits its cart once, and goes on to the order page. */
  async function orderedOnce(page: Page): Promise<string> {
    await page.goto(`${pc.baseUrl}/demo`);
    await page.getByRole('button', { name: 'Submit order' }).click();
    await page.getByRole('link', { name: 'Continue to payment' }).click();
    await page.waitForURL(/\/demo\/orders\/ord_/);
    return ORDER_ID.exec(page.url())![0];
  }

  /** Clicks a link or button that opens a new tab, and returns that tab once loaded. */
  async function inNewTab(context: BrowserContext, click: () => Promise<void>): Promise<Page> {
    const [tab] = await Promise.all([context.waitForEvent('page'), click()]);
    await tab.waitForLoadState();
    return tab;
  }

  async function expectLivePaid(page: Page): Promise<void> {
    await page.locator('[data-order-state="PAID"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
    await page.locator('#webhooks li[data-event-type="order.paid"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
    expect(await page.locator('#webhooks li').first().innerText()).toMatch(/order\.paid[\s\S]*verified ✓[\s\S]*order state in it: PAID/);
    expect(await page.locator('#status .demo-transitions').innerText()).toMatch(/CREATED[\s\S]*PAYING[\s\S]*PAID/);
    expect(await page.locator('#pay').isVisible()).toBe(false);
  }

  it('five fast clicks make one order; the WeChat Pay QR is paid in the wallet and the page goes PAID live', async () => {
    const { context, page } = await open(1280, 900);
    await page.goto(`${pc.baseUrl}/demo`);
    const submit = page.getByRole('button', { name: 'Submit order' });
    for (let i = 0; i < 5; i++) await submit.click();

    const summary = page.locator('#submissions-summary');
    await expect
      .poll(() => summary.innerText())
      .toMatch(/^5 submissions → 1 order \(ord_[\w-]+\); 4 recognised as duplicates$/);
    const orderId = ORDER_ID.exec(await summary.innerText())![0];
    expect(await page.locator('#submissions-answers li').allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringMatching(/answered 201: created/), expect.stringMatching(/answered 409 duplicate_submission/)]),
    );
    const { rows } = await pc.db.pool.query(`SELECT count(*)::int AS n FROM orders WHERE metadata->>'cartId' = (SELECT metadata->>'cartId' FROM orders WHERE id = $1)`, [orderId]);
    expect(rows[0].n).toBe(1);
    await screenshot(page, 'demo-shop');

    await page.getByRole('link', { name: 'Continue to payment' }).click();
    await page.waitForURL(`**/demo/orders/${orderId}`);
    await page.getByRole('button', { name: 'WeChat Pay (QR code)' }).click();
    await page.waitForURL(`**/demo/orders/${orderId}`);
    const qr = page.locator('.demo-qr svg');
    expect(await qr.isVisible()).toBe(true);
    expect((await qr.boundingBox())!.width).toBeGreaterThan(150);
    expect(await page.locator('[data-order-state]').innerText()).toBe('PAYING');
    await screenshot(page, 'demo-qr');

    const wallet = await inNewTab(context, () => page.getByRole('link', { name: 'Open in sandbox wallet' }).click());
    expect(await wallet.locator('.amount').innerText()).toMatch(/^Pay ¥19\.99 to \d+$/);
    await wallet.getByRole('button', { name: 'Pay' }).click();
    await wallet.locator('main[data-state="paid"]').waitFor();
    expect(await wallet.locator('.amount').innerText()).toBe('Paid ¥19.99 ✓');

    await expectLivePaid(page);
    await screenshot(page, 'demo-paid');
    expect(problems).toEqual([]);
  });

  it('pays with Alipay page pay at the sandbox cashier, which sends the buyer back to the order page', async () => {
    const { page } = await open(1280, 900);
    const orderId = await orderedOnce(page);
    await page.getByRole('button', { name: 'Alipay (web cashier)' }).click();
    await page.getByRole('link', { name: 'Continue to the Alipay cashier' }).click();
    await page.waitForURL(/\/sandbox\/alipay\/gateway\.do\?/);
    expect(await page.title()).toBe('Alipay sandbox cashier');
    await page.getByRole('button', { name: 'Pay ¥19.99' }).click();
    await page.waitForURL(new RegExp(`/demo/orders/${orderId}\\?`));
    await expectLivePaid(page);
    expect(problems).toEqual([]);
  });

  it('pays with UnionPay at the sandbox gateway cashier, which posts the buyer back to the order page', async () => {
    const { page } = await open(1280, 900);
    const orderId = await orderedOnce(page);
    await page.getByRole('button', { name: 'UnionPay (web cashier)' }).click();
    await page.getByRole('button', { name: 'Continue to the UnionPay cashier' }).click();
    await page.locator('main[data-state="payable"]').waitFor();
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL(new RegExp(`/demo/orders/${orderId}$`));
    await expectLivePaid(page);
    expect(problems).toEqual([]);
  });

  it('fits a 390 px phone without sideways scrolling, and submits by keyboard', async () => {
    const { context, page } = await open(390, 844);
    const overflow = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

    await page.goto(`${pc.baseUrl}/demo`);
    expect(await overflow(page)).toBe(0);
    await page.getByLabel(/Longjing green tea/).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Submit order');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#submissions-summary').innerText()).toMatch(/^1 submission → 1 order \(ord_[\w-]+\); 0 recognised as duplicates$/);
    expect(await overflow(page)).toBe(0);

    await page.getByRole('link', { name: 'Continue to payment' }).click();
    await page.getByRole('button', { name: 'Alipay (QR code)' }).click();
    await page.locator('.demo-qr svg').waitFor();
    expect(await overflow(page)).toBe(0);

    const wallet = await inNewTab(context, () => page.getByRole('link', { name: 'Open in sandbox wallet' }).click());
    expect(await overflow(wallet)).toBe(0);
    await wallet.getByRole('button', { name: 'Pay' }).click();
    await wallet.locator('main[data-state="paid"]').waitFor();

    await expectLivePaid(page);
    expect(await overflow(page)).toBe(0);
    expect(problems).toEqual([]);
  });
});
