// The console's admin pages over plain HTTP, against a real Paycenter: events and redelivery,
// refused notifications (masked), reconciliation reports, apps and their keys, operators and
// roles, settings without secrets, CSRF and the sign-in lock-out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { TEST_ADMIN_PASSWORD, TEST_API_KEY, orderBody, paycenterPerFile, waitFor } from '../helpers/paycenter.ts';
import { paidOrder } from '../helpers/orders.ts';
import { csrfOf, signInConsole, type ConsoleClient } from '../helpers/console-client.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { forgeAlipayNotification } from '../../src/chaos/forge-alipay.ts';
import { sha256 } from '../../src/domain/fingerprint.ts';
import { beijingDate } from '../../src/domain/reconciliation.ts';

/** Every event of the default app is delivered here (PAYCENTER_WEBHOOK_URL) and acknowledged. */
const configuredReceiver = await startReceiver(() => ({ status: 204 }));
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const pc = paycenterPerFile({
  PAYCENTER_WEBHOOK_URL: configuredReceiver.url,
  PAYCENTER_WEBHOOK_SECRET: WEBHOOK_SECRET,
  PAYCENTER_DELIVERY_SCHEDULE: '100,100',
});
afterAll(() => configuredReceiver.close());

let admin: ConsoleClient;
beforeAll(async () => {
  admin = await signInConsole(pc.baseUrl);
});

const OPERATOR_PASSWORD = 'a-long-enough-password-42';

const paidWechat = () => paidOrder(pc);

async function eventOf(orderId: string, type: string): Promise<string> {
  const { rows } = await pc.db.pool.query('SELECT id FROM events WHERE order_id = $1 AND type = $2', [orderId, type]);
  expect(rows).toHaveLength(1);
  return rows[0].id;
}

/** The one secret-shaped value on a page: what a "shown once" card holds. */
function secretOn(html: string, pattern: RegExp): string {
  const found = html.match(new RegExp(pattern.source, 'g')) ?? [];
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** A sign-in through the form, as a browser would post it: the status and the page. */
async function trySignIn(username: string, password: string): Promise<{ status: number; html: string }> {
  const form = await fetch(`${pc.baseUrl}/console/sign-in`);
  const cookie = form.headers.getSetCookie().find((c) => c.startsWith('pc_signin='))!.split(';')[0]!;
  const res = await fetch(`${pc.baseUrl}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(await form.text()), username, password }).toString(),
  });
  return { status: res.status, html: await res.text() };
}

async function createOperator(username: string, role: string): Promise<void> {
  const res = await admin.post('/console/operators', { username, role, password: OPERATOR_PASSWORD, note: `test: a ${role}` });
  expect(res.status, res.html).toBe(303);
}

describe('events and deliveries', () => {
  it('lists events, filters the dead ones, shows the attempts, and redelivers with the action on record', async () => {
    const failing = await startReceiver(() => ({ status: 503 }));
    try {
      const added = await admin.post('/console/apps/' + (await defaultAppId()) + '/webhook-endpoints', {
        url: failing.url,
        'event.order.closed': 'on',
        note: 'test: a receiver that is down',
      });
      expect(added.status).toBe(201);
      const secret = secretOn(added.html, /whsec_[A-Za-z0-9+/=]+/);
      const endpointId = /we_[A-Za-z0-9_-]{22}/.exec(added.html)![0];
      const apps = await admin.get('/console/apps');
      expect(apps.html).toContain(failing.url);
      expect(apps.html).not.toContain(secret);

      const paidOne = await paidWechat();
      const paidEvent = await eventOf(paidOne.id, 'order.paid');
      const closing = await pc.api('POST', '/v1/orders', orderBody());
      expect((await pc.api('POST', `/v1/orders/${closing.body.id}/close`)).status).toBe(200);
      const closedEvent = await eventOf(closing.body.id, 'order.closed');
      await waitFor(
        async () => (await pc.db.pool.query("SELECT state FROM deliveries WHERE event_id = $1 AND endpoint_id = $2", [closedEvent, endpointId])).rows[0]?.state,
        (s) => s === 'dead',
      );

      const all = await admin.get('/console/events');
      expect(all.status).toBe(200);
      expect(all.html).toContain(paidEvent);
      expect(all.html).toContain(closedEvent);
      const dead = await admin.get('/console/events?delivery=dead');
      expect(dead.status).toBe(200);
      expect(dead.html).toContain(closedEvent);
      expect(dead.html).not.toContain(paidEvent);
      const byType = await admin.get('/console/events?type=order.paid');
      expect(byType.html).toContain(paidEvent);
      expect(byType.html).not.toContain(closedEvent);
      const byOrder = await admin.get(`/console/events?order=${closing.body.id}`);
      expect(byOrder.html).toContain(closedEvent);
      expect(byOrder.html).not.toContain(paidEvent);

      const page = await admin.get(`/console/events/${closedEvent}`);
      expect(page.status).toBe(200);
      expect(page.html).toContain(failing.url);
      expect(page.html).toContain('receiver answered HTTP 503');
      expect(page.html).toContain('answer 503');
      expect(page.html).toContain('&quot;state&quot;: &quot;CLOSED&quot;');

      expect((await admin.post(`/console/events/${closedEvent}/redeliver`, { note: '' })).status).toBe(400);
      failing.setBehaviour(() => ({ status: 204 }));
      const redelivered = await admin.post(`/console/events/${closedEvent}/redeliver`, { note: 'receiver is back up' });
      expect(redelivered.status).toBe(303);
      expect(redelivered.location).toMatch(new RegExp(`^/console/events/${closedEvent}\\?notice=`));
      const { rows: actions } = await pc.db.pool.query(
        "SELECT username, order_id, target, note, outcome FROM operator_actions WHERE action = 'redeliver_event' AND outcome = 'done'",
      );
      expect(actions).toEqual([{ username: 'admin', order_id: closing.body.id, target: closedEvent, note: 'receiver is back up', outcome: 'done' }]);
      const delivered = await waitFor(
        async () => (await pc.db.pool.query('SELECT state, attempts FROM deliveries WHERE event_id = $1 AND endpoint_id = $2', [closedEvent, endpointId])).rows[0],
        (d) => d.state === 'delivered',
      );
      expect(delivered).toEqual({ state: 'delivered', attempts: 4 });
      expect((await admin.get('/console/events?delivery=dead')).html).not.toContain(closedEvent);

      const removed = await admin.post(`/console/apps/${await defaultAppId()}/webhook-endpoints/${endpointId}/remove`, { note: 'test done' });
      expect(removed.status).toBe(303);
      expect((await admin.get('/console/apps')).html).not.toContain(failing.url);
      const { rows } = await pc.db.pool.query('SELECT deleted_at FROM webhook_endpoints WHERE id = $1', [endpointId]);
      expect(rows[0].deleted_at).not.toBeNull();
    } finally {
      await failing.close();
    }
  });

  it('pages through events newest first, 50 a page, without repeating one', async () => {
    const closed: string[] = [];
    for (let i = 0; i < 52; i++) {
      const order = await pc.api('POST', '/v1/orders', orderBody({ amount: 100 + i }));
      expect((await pc.api('POST', `/v1/orders/${order.body.id}/close`)).status).toBe(200);
      closed.push(await eventOf(order.body.id, 'order.closed'));
    }
    const idsOn = (html: string) => [...html.matchAll(/href="\/console\/events\/(evt_[^"]+)"/g)].map((m) => m[1]!);
    const first = await admin.get('/console/events?type=order.closed');
    const older = /<a href="([^"]+)">Older<\/a>/.exec(first.html)![1]!.replaceAll('&amp;', '&');
    expect(older).toMatch(/^\/console\/events\?type=order.closed&before=\d+$/);
    const second = await admin.get(older);
    const firstIds = idsOn(first.html);
    const secondIds = idsOn(second.html);
    expect(firstIds).toHaveLength(50);
    expect(firstIds.slice(0, 50)).toEqual([...closed].reverse().slice(0, 50));
    expect(secondIds.filter((id) => firstIds.includes(id))).toEqual([]);
    expect(secondIds.slice(0, 2)).toEqual([closed[1], closed[0]]);
  });

  it('refuses a bad webhook URL and an unknown app with stable codes', async () => {
    const bad = await admin.post(`/console/apps/${await defaultAppId()}/webhook-endpoints`, { url: 'ftp://example.com/x', note: 'test' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('invalid_webhook_url');
    const withPassword = await admin.post(`/console/apps/${await defaultAppId()}/webhook-endpoints`, { url: 'https://shop:hunter2@example.com/x', note: 'test' });
    expect(withPassword.status).toBe(400);
    expect(withPassword.html).toContain('invalid_webhook_url');
    const { rows } = await pc.db.pool.query("SELECT target, outcome FROM operator_actions WHERE target LIKE '%example.com%' ORDER BY id");
    expect(rows.map((r) => r.outcome)).toEqual(['invalid_webhook_url', 'invalid_webhook_url']);
    expect(JSON.stringify(rows)).not.toContain('hunter2');
    const unknown = await admin.post('/console/apps/app_nope/webhook-endpoints', { url: 'https://example.com/x', note: 'test' });
    expect(unknown.status).toBe(404);
    expect(unknown.html).toContain('not_found');
  });
});

async function defaultAppId(): Promise<string> {
  const { rows } = await pc.db.pool.query('SELECT id FROM apps WHERE is_default');
  return rows[0].id;
}

describe('refused notifications', () => {
  it('lists a forged notification with its reason, its order, and the evidence masked', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'alipay' });
    expect(pay.status).toBe(200);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = forgeAlipayNotification(
      { appId: '2021000000000001', sellerId: '2088111111111111', alipayPrivateKeyPem: '' },
      { outTradeNo: pay.body.payment.outTradeNo, amount: 1999, wrongSigningKey: stranger },
    );
    const res = await fetch(`${pc.baseUrl}/notify/alipay`, { method: 'POST', headers: forged.headers, body: forged.body });
    expect(res.status).toBeLessThan(500);
    const sign = new URLSearchParams(forged.body).get('sign')!;

    const page = await admin.get('/console/notifications');
    expect(page.status).toBe(200);
    expect(page.html).toContain('bad_signature');
    expect(page.html).toContain(pay.body.payment.outTradeNo);
    expect(page.html).toContain(`/console/orders/${order.body.id}`);
    expect(page.html).toContain(`sign=${sign.slice(0, 6)}…(masked)`);
    expect(page.html).not.toContain(sign.slice(0, 40));
    expect(page.html).toContain('buyer_id=****0001');
    expect(page.html).not.toContain('buyer_id=2088000000000001');
  });
});

describe('reconciliations', () => {
  it('runs a channel-day from the console and shows the differences by class, with links to the orders', async () => {
    const today = beijingDate(new Date());
    expect((await pc.sandbox('DELETE', '/sandbox/bill-plants')).status).toBeLessThan(300);
    const mismatched = await paidWechat();
    const omitted = await paidWechat();
    for (const plant of [
      { type: 'amount', outTradeNo: mismatched.outTradeNo, amountMinor: 1 },
      { type: 'omit_payment', outTradeNo: omitted.outTradeNo },
    ]) {
      expect((await pc.sandbox('POST', '/sandbox/bill-plants', { channel: 'wechatpay', date: today, plant })).status).toBe(201);
    }
    const run = await admin.post('/console/reconciliations', { channel: 'wechatpay', date: today, note: 'test: check today' });
    expect(run.status, run.html).toBe(303);
    const reportPath = run.location!.split('?')[0]!;
    const report = await admin.get(reportPath);
    expect(report.status).toBe(200);
    expect(report.html).toContain('amount_mismatch');
    expect(report.html).toContain('paid_locally_only');
    expect(report.html).toContain(`/console/orders/${mismatched.id}`);
    expect(report.html).toContain(`/console/orders/${omitted.id}`);
    expect(report.html).toContain('0.01 CNY');
    expect(report.html).toContain('order put in EXCEPTION');
    // Grouped: each class is a heading, its order's row under it.
    expect(report.html.indexOf('<h2>paid_locally_only')).toBeLessThan(report.html.indexOf(omitted.outTradeNo));
    expect(report.html.indexOf('<h2>amount_mismatch')).toBeLessThan(report.html.indexOf(mismatched.outTradeNo));

    const list = await admin.get('/console/reconciliations');
    expect(list.status).toBe(200);
    expect(list.html).toContain(reportPath);
    expect(list.html).toContain('<strong>2</strong>');
    const { rows } = await pc.db.pool.query("SELECT target, outcome FROM operator_actions WHERE action = 'run_reconciliation'");
    expect(rows).toEqual([{ target: `wechatpay ${today}`, outcome: 'done' }]);
  });
});

describe('apps and API keys', () => {
  const keyPattern = /pk_[A-Za-z0-9_-]{32}/;

  async function createApp(name: string): Promise<{ id: string; key: string }> {
    const res = await admin.post('/console/apps', { name, note: 'test: a new shop' });
    expect(res.status).toBe(201);
    expect(res.html).toContain('it will not be shown again');
    const key = secretOn(res.html, keyPattern);
    const id = /app_[A-Za-z0-9_-]{22}/.exec(res.html)![0];
    return { id, key };
  }

  const eventsWith = (key: string) => pc.api('GET', '/v1/events', undefined, { authorization: `Bearer ${key}` });

  it('creates an app whose key is shown once and works; rotation refuses the old key and accepts the new', async () => {
    const shop = await createApp('Tea shop');
    expect((await eventsWith(shop.key)).status).toBe(200);
    const list = await admin.get('/console/apps');
    expect(list.html).toContain('Tea shop');
    expect(list.html).not.toContain(shop.key);

    // Never used: no process cached it, so it is refused at once.
    const unused = await createApp('Coffee shop');
    const rotated = await admin.post(`/console/apps/${unused.id}/rotate-key`, { note: 'test: key leaked' });
    expect(rotated.status).toBe(200);
    expect(rotated.html).toContain('30 s');
    const newKey = secretOn(rotated.html, keyPattern);
    expect(newKey).not.toBe(unused.key);
    expect((await eventsWith(unused.key)).status).toBe(401);
    expect((await eventsWith(newKey)).status).toBe(200);

    // Used just before: this process may accept it for up to 30 s more, but the stored hash is the new key's.
    const again = secretOn((await admin.post(`/console/apps/${shop.id}/rotate-key`, { note: 'test: rotate' })).html, keyPattern);
    const { rows } = await pc.db.pool.query('SELECT api_key_hash FROM apps WHERE id = $1', [shop.id]);
    expect(rows[0].api_key_hash).toBe(sha256(again));
    expect((await eventsWith(again)).status).toBe(200);
    const { rows: actions } = await pc.db.pool.query(
      "SELECT action, target, outcome FROM operator_actions WHERE action IN ('create_app', 'rotate_api_key') ORDER BY id",
    );
    expect(actions).toEqual([
      { action: 'create_app', target: 'Tea shop', outcome: 'done' },
      { action: 'create_app', target: 'Coffee shop', outcome: 'done' },
      { action: 'rotate_api_key', target: unused.id, outcome: 'done' },
      { action: 'rotate_api_key', target: shop.id, outcome: 'done' },
    ]);
  });

  it('refuses an app without a name, and an action without a note', async () => {
    const nameless = await admin.post('/console/apps', { name: '  ', note: 'test' });
    expect(nameless.status).toBe(400);
    expect(nameless.html).toContain('invalid_request');
    const silent = await admin.post('/console/apps', { name: 'No note' });
    expect(silent.status).toBe(400);
    expect(silent.html).toContain('Say why');
  });
});

describe('operators and roles', () => {
  it('creates a viewer who sees the lists but is refused admin and operator actions', async () => {
    const weak = await admin.post('/console/operators', { username: 'vera', role: 'viewer', password: 'short', note: 'test' });
    expect(weak.status).toBe(400);
    expect(weak.html).toContain('Use at least 12 characters.');
    await createOperator('vera', 'viewer');
    const operators = await admin.get('/console/operators');
    expect(operators.html).toContain('vera');
    expect(operators.html).toContain('create_operator');

    const viewer = await signInConsole(pc.baseUrl, 'vera', OPERATOR_PASSWORD);
    for (const path of ['/console/events', '/console/notifications', '/console/reconciliations', '/console/apps', '/console/operators', '/console/settings']) {
      const page = await viewer.get(path);
      expect(page.status, path).toBe(200);
    }
    const apps = await viewer.get('/console/apps');
    expect(apps.html).not.toContain('Rotate API key');
    expect(apps.html).not.toContain('Create app');
    expect((await viewer.get('/console/operators')).html).not.toContain('Create operator');
    const refused = await viewer.post('/console/apps', { name: 'Sneaky', note: 'let me' });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('forbidden');
    const run = await viewer.post('/console/reconciliations', { channel: 'wechatpay', date: beijingDate(new Date()), note: 'let me' });
    expect(run.status).toBe(403);
    const { rows } = await pc.db.pool.query("SELECT count(*)::int AS n FROM apps WHERE name = 'Sneaky'");
    expect(rows[0].n).toBe(0);
  });

  it('resets a password (ending the sessions) and disables an operator', async () => {
    await createOperator('oscar', 'operator');
    const { rows } = await pc.db.pool.query("SELECT id FROM operators WHERE username = 'oscar'");
    const id = rows[0].id as string;
    const session = await signInConsole(pc.baseUrl, 'oscar', OPERATOR_PASSWORD);
    const newPassword = 'another-long-password-7';
    expect((await admin.post(`/console/operators/${id}/reset-password`, { password: newPassword, note: 'forgot it' })).status).toBe(303);
    expect((await session.get('/console/events')).status).toBe(303);
    expect((await trySignIn('oscar', OPERATOR_PASSWORD)).status).toBe(401);
    await signInConsole(pc.baseUrl, 'oscar', newPassword);

    const self = await pc.db.pool.query("SELECT id FROM operators WHERE username = 'admin'");
    expect((await admin.post(`/console/operators/${self.rows[0].id}/disable`, { note: 'oops' })).status).toBe(400);
    expect((await admin.post(`/console/operators/${id}/disable`, { note: 'left the team' })).status).toBe(303);
    expect((await trySignIn('oscar', newPassword)).html).toContain('signin_failed');
    const disabled = await pc.db.pool.query('SELECT disabled_at FROM operators WHERE id = $1', [id]);
    expect(disabled.rows[0].disabled_at).not.toBeNull();
  });

  it('locks an account after 5 wrong passwords: the 6th attempt, even right, is refused with signin_locked', async () => {
    await createOperator('lola', 'viewer');
    for (let i = 0; i < 4; i++) expect((await trySignIn('lola', 'wrong-password-123')).status).toBe(401);
    expect((await trySignIn('lola', 'wrong-password-123')).status).toBe(429);
    const sixth = await trySignIn('lola', OPERATOR_PASSWORD);
    expect(sixth.status).toBe(429);
    expect(sixth.html).toContain('signin_locked');
  });
});

describe('settings and CSRF', () => {
  it('shows every setting and no secret', async () => {
    const page = await admin.get('/console/settings');
    expect(page.status).toBe(200);
    for (const key of ['apiKey', 'adminPassword', 'delivery.webhookSecret', 'delivery.webhookUrl', 'databaseUrl', 'orderTtlMs']) expect(page.html).toContain(key);
    expect(page.html).toContain(configuredReceiver.url);
    expect(page.html).toContain('set (masked)');
    for (const secret of [TEST_API_KEY, TEST_ADMIN_PASSWORD, WEBHOOK_SECRET]) expect(page.html).not.toContain(secret);
  });

  it('refuses a POST without the CSRF token: 403 csrf_refused, nothing done', async () => {
    const res = await fetch(`${pc.baseUrl}/console/apps`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Forged', note: 'csrf' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('csrf_refused');
    const { rows } = await pc.db.pool.query("SELECT count(*)::int AS n FROM apps WHERE name = 'Forged'");
    expect(rows[0].n).toBe(0);
  });
});
