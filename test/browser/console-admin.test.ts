// The console's admin pages in Chromium: the dead-delivery filter, an app's key shown once, a
// viewer without admin forms, labelled controls, and no sideways scrolling at phone width.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { paidOrder as paidOrderOf } from '../helpers/orders.ts';
import { launchChromium, requireChromium, screenshot, signInInBrowser } from '../helpers/browser.ts';
import { TEST_ADMIN_PASSWORD, TEST_API_KEY, orderBody, paycenterPerFile, waitFor } from '../helpers/paycenter.ts';
import { signInConsole } from '../helpers/console-client.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { beijingDate } from '../../src/domain/reconciliation.ts';

const chromiumFound = requireChromium();
const VIEWER_PASSWORD = 'viewer-password-long-1';

describe.skipIf(!chromiumFound)('console admin pages in a browser', () => {
  const pc = paycenterPerFile({ PAYCENTER_DELIVERY_SCHEDULE: '100' });
  let browser: Browser;
  let down: Receiver;
  let paidEvent: string;
  let deadEvent: string;
  let reportId: string;

  const paidOrder = () => paidOrderOf(pc);

  async function eventOf(orderId: string, type: string): Promise<string> {
    const { rows } = await pc.db.pool.query('SELECT id FROM events WHERE order_id = $1 AND type = $2', [orderId, type]);
    return rows[0].id;
  }

  beforeAll(async () => {
    browser = await launchChromium();
    // A receiver that is down for closed orders: their events end with a dead delivery.
    down = await startReceiver(() => ({ status: 503 }));
    expect((await pc.api('POST', '/v1/webhook-endpoints', { url: down.url, events: ['order.closed'] })).status).toBe(201);
    const paid = await paidOrder();
    paidEvent = await eventOf(paid.id, 'order.paid');
    const closing = await pc.api('POST', '/v1/orders', orderBody());
    await pc.api('POST', `/v1/orders/${closing.body.id}/close`);
    deadEvent = await eventOf(closing.body.id, 'order.closed');
    await waitFor(
      async () => (await pc.db.pool.query("SELECT count(*)::int AS n FROM deliveries WHERE event_id = $1 AND state = 'dead'", [deadEvent])).rows[0].n,
      (n) => n === 1,
    );
    // A report with a difference of each of two classes.
    const today = beijingDate(new Date());
    const mismatched = await paidOrder();
    const omitted = await paidOrder();
    await pc.sandbox('POST', '/sandbox/bill-plants', { channel: 'wechatpay', date: today, plant: { type: 'amount', outTradeNo: mismatched.outTradeNo, amountMinor: 1 } });
    await pc.sandbox('POST', '/sandbox/bill-plants', { channel: 'wechatpay', date: today, plant: { type: 'omit_payment', outTradeNo: omitted.outTradeNo } });
    const report = await pc.api('POST', '/v1/reconciliations', { channel: 'wechatpay', date: today });
    expect(report.status).toBe(201);
    reportId = report.body.id;
    const admin = await signInConsole(pc.baseUrl);
    expect((await admin.post('/console/operators', { username: 'vic', role: 'viewer', password: VIEWER_PASSWORD, note: 'browser test' })).status).toBe(303);
  });
  afterAll(async () => {
    await browser?.close();
    await down?.close();
  });

  async function newPage(width = 1280): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    return context.newPage();
  }

  /** Every visible control has a label and every button a name (what a screen reader announces). */
  async function expectLabelled(page: Page): Promise<void> {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    const nameless = await page.evaluate(() => [...document.querySelectorAll('button')].filter((b) => b.textContent!.trim() === '').map((b) => b.outerHTML));
    expect(nameless).toEqual([]);
  }

  async function expectNoSidewaysScroll(page: Page): Promise<void> {
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    expect(scroll, page.url()).toBeLessThanOrEqual(width);
  }

  it('filters the events with a dead delivery and opens one', async () => {
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl);
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await expect.poll(() => page.getByRole('link', { name: paidEvent }).count()).toBe(1);
    await page.getByLabel('Delivery').selectOption('dead');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/delivery=dead/);
    await expect.poll(() => page.getByRole('heading', { name: 'Events with a dead delivery' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: deadEvent }).count()).toBe(1);
    expect(await page.getByRole('link', { name: paidEvent }).count()).toBe(0);
    await expectLabelled(page);
    await screenshot(page, 'console-events');
    await page.getByRole('link', { name: deadEvent }).click();
    await expect.poll(() => page.getByText('receiver answered HTTP 503').count()).toBeGreaterThan(0);
    await expectLabelled(page);
    expect(await page.getByRole('button', { name: 'Redeliver event' }).count()).toBe(1);
    await page.close();
  });

  it('creates an app and shows its key once', async () => {
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl);
    await page.goto(`${pc.baseUrl}/console/apps`);
    await expectLabelled(page);
    await page.getByText('Create an app').click();
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Create app' }) });
    await form.getByLabel('Name').fill('Bookshop');
    await form.getByLabel('Why (recorded with the action)').fill('a new merchant');
    await form.getByRole('button', { name: 'Create app' }).click();
    await expect.poll(() => page.getByRole('heading', { name: /Copy the API key now: it will not be shown again/ }).count()).toBe(1);
    const key = (await page.locator('code.secret').textContent())!;
    expect(key).toMatch(/^pk_/);
    expect((await pc.api('GET', '/v1/events', undefined, { authorization: `Bearer ${key}` })).status).toBe(200);
    await page.getByRole('link', { name: 'Back to apps' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Bookshop' }).count()).toBe(1);
    expect(await page.content()).not.toContain(key);
    await screenshot(page, 'console-apps');
    await page.close();
  });

  it('shows a reconciliation report and the settings without secrets', async () => {
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl);
    await page.goto(`${pc.baseUrl}/console/reconciliations`);
    await page.getByRole('link', { name: /Report/ }).first().click();
    await page.waitForURL(new RegExp(reportId));
    expect(await page.getByRole('heading', { name: /amount_mismatch/ }).count()).toBe(1);
    expect(await page.getByRole('heading', { name: /paid_locally_only/ }).count()).toBe(1);
    await screenshot(page, 'console-reconciliation');
    await page.goto(`${pc.baseUrl}/console/settings`);
    expect(await page.getByRole('cell', { name: 'apiKey', exact: true }).count()).toBe(1);
    const text = await page.content();
    expect(text).not.toContain(TEST_API_KEY);
    expect(text).not.toContain(TEST_ADMIN_PASSWORD);
    await screenshot(page, 'console-settings');
    await page.close();
  });

  it('a viewer sees the lists but no admin or operator form', async () => {
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl, 'vic', VIEWER_PASSWORD);
    await page.goto(`${pc.baseUrl}/console/apps`);
    expect(await page.getByRole('heading', { name: 'Bookshop' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Rotate API key|Create app|Add endpoint|Remove endpoint/ }).count()).toBe(0);
    await page.goto(`${pc.baseUrl}/console/operators`);
    expect(await page.getByRole('button', { name: /Create operator|Reset password|Disable/ }).count()).toBe(0);
    await page.goto(`${pc.baseUrl}/console/events/${deadEvent}`);
    expect(await page.getByRole('button', { name: 'Redeliver event' }).count()).toBe(0);
    await page.close();
  });

  it('fits a phone: no page scrolls sideways, wide tables scroll inside their frame', async () => {
    const page = await newPage(390);
    await signInInBrowser(page, pc.baseUrl);
    for (const path of [
      '/console/events',
      '/console/events?delivery=dead',
      `/console/events/${deadEvent}`,
      '/console/notifications',
      '/console/reconciliations',
      `/console/reconciliations/${reportId}`,
      '/console/apps',
      '/console/operators',
      '/console/settings',
    ]) {
      await page.goto(pc.baseUrl + path);
      await expectNoSidewaysScroll(page);
    }
    await page.close();
  });
});
