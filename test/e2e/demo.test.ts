// The demo checkout at /demo over HTTP, as a browser without JavaScript would drive it: one cart
// submitted five times at once is one order, each channel is paid the way its buyer pays (the
// sandbox wallet for QR codes, the cashier page for Alipay page pay and the UnionPay gateway), and
// the shop's webhook store ends with a verified order.paid. With the sandbox off there is no demo,
// and a channel with real credentials is never offered in it.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startPaycenter } from '../../src/runtime/start.ts';
import { rsaKeyPair, wechatpayTestConfig } from '../helpers/channel-keys.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { FAST_ENV, paycenterPerFile, waitFor } from '../helpers/paycenter.ts';

const pc = paycenterPerFile();

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function request(method: 'GET' | 'POST', url: string, form?: Record<string, string>, accept = 'text/html'): Promise<Answer> {
  const res = await fetch(url.startsWith('http') ? url : pc.baseUrl + url, {
    method,
    redirect: 'manual',
    headers: { accept, ...(form && { 'content-type': 'application/x-www-form-urlencoded' }) },
    body: form && new URLSearchParams(form).toString(),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
/** Attribute text as the browser reads it (the pages escape with names and with numeric references). */
function unescape(text: string): string {
  return text.replace(/&(#\d+|[a-z]+);/g, (m, ref: string) =>
    ref.startsWith('#') ? String.fromCharCode(Number(ref.slice(1))) : (ENTITIES[ref] ?? m),
  );
}

/** The form whose action matches, with its hidden fields, as a browser would submit it. */
function formOn(page: string, action: RegExp): { action: string; fields: Record<string, string> } {
  const forms = [...page.matchAll(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => action.test(unescape(f[1]!)));
  if (!form) throw new Error(`no form with action ${action} on the page:\n${page}`);
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescape(input[1]!)] = unescape(input[2]!);
  }
  return { action: unescape(form[1]!), fields };
}

function linkOn(page: string, href: RegExp): string {
  const link = [...page.matchAll(/<a\b[^>]*\bhref="([^"]*)"/g)].map((m) => unescape(m[1]!)).find((h) => href.test(h));
  if (!link) throw new Error(`no link to ${href} on the page:\n${page}`);
  return link;
}

/** A fresh shop page's cart: one Longjing tea, 19.99. */
async function newCart(): Promise<Record<string, string>> {
  const shop = await request('GET', '/demo');
  expect(shop.status).toBe(200);
  const cart = /name="cart" value="([^"]+)"/.exec(shop.text)?.[1];
  expect(cart).toBeDefined();
  return { cart: cart!, 'qty.longjing': '1', 'qty.jasmine': '0' };
}

async function submittedOrder(): Promise<string> {
  const answer = await request('POST', '/demo/orders', await newCart(), 'application/json');
  expect(answer.status).toBe(201);
  return JSON.parse(answer.text).orderId;
}

async function status(orderId: string) {
  const answer = await request('GET', `/demo/orders/${orderId}/status`, undefined, 'application/json');
  expect(answer.status).toBe(200);
  return JSON.parse(answer.text);
}

/** Chooses the way to pay on the order page (a form post, redirected back), and returns the page. */
async function choose(orderId: string, method: string): Promise<string> {
  const chosen = await request('POST', `/demo/orders/${orderId}/pay`, { method });
  expect(chosen.status).toBe(303);
  expect(chosen.headers.get('location')).toBe(`/demo/orders/${orderId}`);
  const page = await request('GET', `/demo/orders/${orderId}`);
  expect(page.status).toBe(200);
  return page.text;
}

/** Scans the QR code with the sandbox wallet and presses Pay. */
async function payInWallet(orderPage: string): Promise<void> {
  const wallet = await request('GET', linkOn(orderPage, /^\/sandbox\/wallet\?code=/));
  expect(wallet.status).toBe(200);
  expect(wallet.text).toContain('Pay ¥19.99 to');
  const pay = formOn(wallet.text, /^\/sandbox\/wallet\/pay$/);
  const paid = await request('POST', pay.action, pay.fields);
  expect(paid.status).toBe(200);
  expect(paid.text).toContain('data-state="paid"');
  // A second press is the bank refusing to take the money twice.
  const again = await request('POST', pay.action, pay.fields);
  expect(again.status).toBe(409);
}

/** Alipay page pay: opens the cashier the order page links to, presses Pay, and is sent back to the order page. */
async function payAtAlipayCashier(orderPage: string, orderId: string): Promise<void> {
  const cashier = await request('GET', linkOn(orderPage, /\/sandbox\/alipay\/gateway\.do\?/));
  expect(cashier.status).toBe(200);
  const pay = formOn(cashier.text, /\/sandbox\/alipay\/cashier\/pay$/);
  const paid = await request('POST', pay.action, pay.fields);
  expect(paid.status).toBe(303);
  expect(paid.headers.get('location')).toMatch(new RegExp(`^${pc.baseUrl}/demo/orders/${orderId}\\?`));
}

/** UnionPay: posts the order page's gateway form (the buyer's browser does), presses Pay, and is posted back to the order page. */
async function payAtUnionpayCashier(orderPage: string, orderId: string): Promise<void> {
  const gateway = formOn(orderPage, /\/sandbox\/unionpay\/gateway\/api\/frontTransReq\.do$/);
  expect(gateway.fields.frontUrl).toBe(`${pc.baseUrl}/demo/orders/${orderId}`);
  const cashier = await request('POST', gateway.action, gateway.fields);
  expect(cashier.text).toContain('data-state="payable"');
  const pay = formOn(cashier.text, /\/sandbox\/unionpay\/cashier\/pay$/);
  const paid = await request('POST', pay.action, pay.fields);
  expect(paid.status).toBe(200);
  const back = formOn(paid.text, /\/demo\/orders\//);
  expect(back.action).toBe(`${pc.baseUrl}/demo/orders/${orderId}`);
  const landed = await request('POST', back.action, back.fields);
  expect(landed.status).toBe(303);
  expect(landed.headers.get('location')).toBe(`/demo/orders/${orderId}`);
}

describe('the demo checkout', () => {
  it('makes one order of five concurrent submissions of one cart: 1 created, 4 recognised as duplicates', async () => {
    const cart = await newCart();
    const answers = await Promise.all(Array.from({ length: 5 }, () => request('POST', '/demo/orders', cart, 'application/json')));
    const bodies = answers.map((a) => JSON.parse(a.text));
    const created = bodies.filter((b) => b.outcome === 'created');
    const duplicates = bodies.filter((b) => b.outcome === 'duplicate');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ paycenterStatus: 201 });
    expect(duplicates).toHaveLength(4);
    for (const d of duplicates) expect(d).toMatchObject({ orderId: created[0].orderId, paycenterStatus: 409, code: 'duplicate_submission' });
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);

    const { rows } = await pc.db.pool.query(
      `SELECT o.id FROM orders o JOIN demo_shop s ON s.app_id = o.app_id WHERE o.metadata->>'cartId' = $1`,
      [cart.cart],
    );
    expect(rows).toEqual([{ id: created[0].orderId }]);
  });

  it('sends a submission without JavaScript on to the order page, and a repeat to the same order', async () => {
    const cart = await newCart();
    const first = await request('POST', '/demo/orders', cart);
    expect(first.status).toBe(303);
    const location = first.headers.get('location')!;
    expect(location).toMatch(/^\/demo\/orders\/ord_[\w-]+\?submitted=created$/);
    const repeat = await request('POST', '/demo/orders', cart);
    expect(repeat.headers.get('location')).toBe(location.replace('created', 'duplicate'));

    const page = await request('GET', location);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('Paycenter created it');
    expect(page.text).toContain('<span class="badge CREATED" data-order-state="CREATED">CREATED</span>');
    expect(page.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)/);
  });

  it('refuses a cart it did not make and an empty one', async () => {
    const cart = await newCart();
    expect((await request('POST', '/demo/orders', { ...cart, cart: 'x' }, 'application/json')).status).toBe(400);
    const empty = await request('POST', '/demo/orders', { ...cart, 'qty.longjing': '0' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Choose at least one item.');
  });

  it.each([
    ['wechatpay.native', payInWallet],
    ['alipay.qr', payInWallet],
    ['alipay.page', payAtAlipayCashier],
    ['unionpay.gateway', payAtUnionpayCashier],
  ])('pays with %s: the order becomes PAID and the shop holds a verified order.paid', async (method, buyerPays) => {
    const orderId = await submittedOrder();
    const page = await choose(orderId, method);
    expect((await status(orderId)).state).toBe('PAYING');

    await buyerPays(page, orderId);

    const settled = await waitFor(() => status(orderId), (s) => s.settled === true);
    expect(settled.state).toBe('PAID');
    expect(settled.transitions.map((t: { to: string }) => t.to)).toEqual(['CREATED', 'PAYING', 'PAID']);
    expect(settled.webhooks).toEqual([expect.objectContaining({ type: 'order.paid', orderState: 'PAID', verified: true })]);
    expect(settled.html.webhooks).toContain('verified ✓');
    const { rows } = await pc.db.pool.query('SELECT type, order_state FROM demo_inbox WHERE order_id = $1', [orderId]);
    expect(rows).toEqual([{ type: 'order.paid', order_state: 'PAID' }]);

    const after = await request('GET', `/demo/orders/${orderId}`);
    expect(after.text).toContain('data-order-state="PAID"');
    expect(after.text).not.toContain('id="pay"');
  });

  it('refuses a webhook that is not signed with the shop’s secret, and stores nothing', async () => {
    const orderId = await submittedOrder();
    const body = JSON.stringify({ id: 'evt_forged', type: 'order.paid', createdAt: new Date().toISOString(), sequence: 9, data: { order: { id: orderId } } });
    const res = await fetch(`${pc.baseUrl}/demo/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'evt_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,Zm9yZ2Vk',
      },
      body,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('bad_signature');
    expect((await status(orderId)).webhooks).toEqual([]);
  });

  it('has a wallet that knows only the codes the sandbox issued', async () => {
    expect((await request('GET', '/sandbox/wallet')).text).toContain('Payment code');
    expect((await request('GET', `/sandbox/wallet?code=${encodeURIComponent('weixin://wxpay/bizpayurl?pr=nothing')}`)).status).toBe(404);
    expect((await request('GET', '/sandbox/wallet?code=a&code=b')).status).toBe(404);
    expect((await request('POST', '/sandbox/wallet/pay', { code: 'https://qr.alipay.com/nothing' })).status).toBe(404);
  });

  it('answers 404 for an order of another app', async () => {
    const other = await pc.api('POST', '/v1/orders', { merchantOrderNo: 'not-the-shops', amount: 100, currency: 'CNY', subject: 'Elsewhere' });
    expect(other.status).toBe(201);
    expect((await request('GET', `/demo/orders/${other.body.id}`)).status).toBe(404);
    expect((await request('GET', `/demo/orders/${other.body.id}/status`, undefined, 'application/json')).status).toBe(404);
  });
});

describe('with a channel that has real credentials', () => {
  /** A Paycenter whose WeChat Pay is "real" (a configured merchant; nothing listens at its URL). */
  async function withRealWechatpay(sandbox: 'on' | 'off', work: (baseUrl: string, db: TestDatabase) => Promise<void>): Promise<void> {
    const db = await createTestDatabase();
    const config = resolveConfig(
      { channels: { wechatpay: wechatpayTestConfig({ merchant: rsaKeyPair(), platform: rsaKeyPair() }, 'http://127.0.0.1:9', 1_000) } },
      { ...FAST_ENV, PAYCENTER_SANDBOX: sandbox, DATABASE_URL: db.url },
    );
    const running = await startPaycenter(config, createLogger(config.logLevel));
    try {
      await work(running.baseUrl, db);
    } finally {
      await running.stop();
      await db.drop();
    }
  }

  it('serves no demo and no wallet, and makes no demo app, when the sandbox is off', async () => {
    await withRealWechatpay('off', async (baseUrl, db) => {
      for (const path of ['/demo', '/demo/assets/demo.js', '/demo/orders/ord_x', '/sandbox/wallet']) {
        expect((await fetch(baseUrl + path)).status, path).toBe(404);
      }
      const webhook = await fetch(`${baseUrl}/demo/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(webhook.status).toBe(404);
      expect((await db.pool.query('SELECT * FROM demo_shop')).rows).toEqual([]);
    });
  });

  it('never offers that channel in the demo beside the sandbox: it would take real money', async () => {
    await withRealWechatpay('on', async (baseUrl) => {
      const shop = await fetch(`${baseUrl}/demo`).then((r) => r.text());
      const cart = /name="cart" value="([^"]+)"/.exec(shop)![1]!;
      const submitted = await fetch(`${baseUrl}/demo/orders`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ cart, 'qty.longjing': '1' }).toString(),
      });
      const orderPath = submitted.headers.get('location')!.split('?')[0]!;
      const page = await fetch(baseUrl + orderPath).then((r) => r.text());
      expect(page).toContain('Alipay (QR code)');
      expect(page).not.toContain('WeChat Pay (QR code)');
      const pay = await fetch(`${baseUrl}${orderPath}/pay`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'method=wechatpay.native',
      });
      expect(pay.status).toBe(400);
    });
  });
});
