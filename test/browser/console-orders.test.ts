// The dashboard, order search and order page in Chromium, as operators use them: by label and
// role (so every field has a label and every button a name), by keyboard, at desktop and phone
// widths, and with the CSRF and role checks seen from a real page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { paidOrder as paidOrderOf, payingOrder as payingOrderOf } from '../helpers/orders.ts';
import { launchChromium, requireChromium, screenshot, signInInBrowser } from '../helpers/browser.ts';
import { paycenterPerFile } from '../helpers/paycenter.ts';
import { buyerPays } from '../../src/harness/buyer.ts';
import { createOperator } from '../../src/services/operators.ts';

const chromiumFound = requireChromium();
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describe.skipIf(!chromiumFound)('the console’s order pages in Chromium', () => {
  // Queries 10 minutes away: what settles an order here is the operator's action.
  const pc = paycenterPerFile({ PAYCENTER_QUERY_SCHEDULE: '600000', PAYCENTER_EXCEPTION_QUERY_INTERVAL_MS: '600000' });
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function newPage(viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({ viewport });
    return context.newPage();
  }

  const payingOrder = (order: Record<string, unknown> = {}) => payingOrderOf(pc, { order });
  const paidOrder = () => paidOrderOf(pc);

  /** Presses Tab until the focused element satisfies `is`; false if it never does. */
  async function tabTo(page: Page, is: string, presses = 60): Promise<boolean> {
    for (let i = 0; i < presses; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((selector) => document.activeElement?.matches(selector) ?? false, is)) return true;
    }
    return false;
  }

  const noHorizontalOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  it('finds an order by merchantOrderNo, asks the channel, and sees it PAID', async () => {
    // Some history for the dashboard and the list.
    for (let i = 0; i < 4; i++) await paidOrder();
    await payingOrder();
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    const order = await payingOrder({ customerId: 'cust-browser' });
    expect((await buyerPays(pc.baseUrl, order.payment)).status).toBe(200);

    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl);
    await expect(page.getByRole('heading', { name: 'Orders by state' }).isVisible()).resolves.toBe(true);
    expect(await page.getByRole('link', { name: /PAID$/ }).first().textContent()).toMatch(/^\d+PAID$/);
    await screenshot(page, 'console-dashboard');

    // The skip link comes first on the keyboard, and lands on the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Orders', exact: true }).click();
    await page.getByLabel('Merchant order no').fill(order.merchantOrderNo);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/merchantOrderNo=/);
    await expect(page.getByRole('link', { name: order.id }).count()).resolves.toBe(1);
    // The search form is reachable by keyboard from the top of the page.
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    expect(await tabTo(page, '#f-merchantOrderNo')).toBe(true);
    await page.goto(`${pc.baseUrl}/console/orders`);
    await screenshot(page, 'console-orders');
    await page.goto(`${pc.baseUrl}/console/orders?merchantOrderNo=${encodeURIComponent(order.merchantOrderNo)}`);

    await page.getByRole('link', { name: order.id }).click();
    await page.waitForURL(new RegExp(`/console/orders/${order.id}$`));
    await expect(page.getByText('No notification has arrived from WeChat Pay about this payment.').isVisible()).resolves.toBe(true);
    await screenshot(page, 'console-order-unpaid');
    // The action's note and button are reachable with Tab.
    expect(await tabTo(page, 'textarea[name="note"]')).toBe(true);
    await page.getByLabel('Why query the channel?').fill('buyer sent a bank receipt');
    await page.getByRole('button', { name: 'Query channel' }).click();
    await page.waitForURL(/notice=/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('the order is PAID');
    await expect(page.locator('dl.facts .badge').textContent()).resolves.toBe('PAID');
    await expect(page.getByText('Operator admin').isVisible()).resolves.toBe(true);
    await screenshot(page, 'console-order');
    expect((await pc.getOrder(order.id)).state).toBe('PAID');
  });

  it('refunds through the form: the refund appears on the page', async () => {
    const order = await paidOrder();
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl);
    await page.goto(`${pc.baseUrl}/console/orders/${order.id}`);
    await page.getByLabel('Amount (CNY, e.g. 12.34)').fill('2.50');
    await page.getByLabel('Why refund?').fill('one item was missing');
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    await page.waitForURL(/notice=/);
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Refund re_\S+ of 2.50 CNY is PENDING/);
    await expect(page.getByRole('cell', { name: '2.50 CNY' }).count()).resolves.toBe(1);
    await expect(page.getByRole('cell', { name: 'one item was missing' }).count()).resolves.toBe(1);
  });

  it('resolves an exception: the channel says never paid, so the order is closed', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { queryErrorRate: 1, closeErrorRate: 1 });
    const order = await payingOrder({ expiresInSeconds: 2 });
    expect((await pc.waitForState(order.id, 'EXCEPTION', 15_000)).state).toBe('EXCEPTION');
    await pc.sandbox('DELETE', '/sandbox/faults');
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl);
    await page.goto(`${pc.baseUrl}/console/orders/${order.id}`);
    await expect(page.getByText(/^Needs an operator:/).isVisible()).resolves.toBe(true);
    await page.getByLabel('Why resolve it now?').fill('buyer confirms they never paid');
    await page.getByRole('button', { name: 'Resolve exception' }).click();
    await page.waitForURL(/notice=/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('Resolved: the order is CLOSED');
    expect((await pc.getOrder(order.id)).state).toBe('CLOSED');
  });

  it('a viewer sees no action button, and a POST forged from their page is refused 403', async () => {
    await createOperator(pc.db.pool, { username: 'vic', role: 'viewer', password: 'viewer-password-long-enough' });
    const order = await payingOrder();
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl, 'vic', 'viewer-password-long-enough');
    await page.goto(`${pc.baseUrl}/console/orders/${order.id}`);
    for (const name of ['Query channel', 'Close order', 'Refund', 'Resolve exception']) {
      await expect(page.getByRole('button', { name, exact: true }).count()).resolves.toBe(0);
    }
    const forged = await page.evaluate(async (orderId) => {
      const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
      const res = await fetch(`/console/orders/${orderId}/close`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, note: 'let me try' }).toString(),
      });
      return { status: res.status, text: await res.text() };
    }, order.id);
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('error: forbidden');
    expect((await pc.getOrder(order.id)).state).toBe('PAYING');
  });

  it('a form sent with a tampered CSRF token shows the csrf_refused page and changes nothing', async () => {
    const order = await payingOrder();
    const page = await newPage();
    await signInInBrowser(page, pc.baseUrl);
    await page.goto(`${pc.baseUrl}/console/orders/${order.id}`);
    await page.evaluate((id) => {
      const form = document.querySelector(`form[action="/console/orders/${id}/close"]`)!;
      (form.querySelector('input[name="_csrf"]') as HTMLInputElement).value = 'tampered';
    }, order.id);
    await page.getByLabel('Why close the order?').fill('testing the token');
    await page.getByRole('button', { name: 'Close order' }).click();
    await expect(page.getByRole('heading', { name: 'Not done' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('error: csrf_refused').isVisible()).resolves.toBe(true);
    expect((await pc.getOrder(order.id)).state).toBe('PAYING');
  });

  it('fits a phone: no page-wide horizontal scrolling on the dashboard, the list and an order', async () => {
    const order = await paidOrder();
    const page = await newPage(PHONE);
    await signInInBrowser(page, pc.baseUrl);
    for (const path of ['/console', '/console/orders', `/console/orders/${order.id}`]) {
      await page.goto(`${pc.baseUrl}${path}`);
      expect(await noHorizontalOverflow(page), path).toBe(true);
    }
  });
});
