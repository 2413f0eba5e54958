// Payment notifications: delivered signed and encrypted right after the buyer pays, retried on
// the (scaled) WeChat schedule until acknowledged, faulted on demand, and resumed by a sandbox
// that restarts on the same ledger.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  WechatpayTestClient,
  control,
  createTestDatabase,
  decryptResource,
  eventually,
  sandboxPerFile,
  serveSandbox,
  startNotificationReceiver,
  verifyPlatformSignature,
  type ReceivedNotification,
} from '../helpers/wechatpay-test-client.ts';

/** 15 s × 0.01 = 150 ms between the first retries: long enough to measure, short enough to wait for. */
const TIME_SCALE = 0.01;
const FIRST_RETRY_DELAY_MS = 15_000 * TIME_SCALE;
/** Tests that start extra sandboxes or databases, or wait out a whole retry schedule. */
const SLOW_TEST_TIMEOUT_MS = 30_000;

const server = sandboxPerFile({ timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
let client: WechatpayTestClient;

beforeAll(async () => {
  client = await WechatpayTestClient.registered(server.url);
});

async function orderAndPay(notifyUrl: string, serverUrl = server.url): Promise<{ outTradeNo: string; paid: any }> {
  const outTradeNo = 'N' + randomBytes(8).toString('hex');
  const created = await client.call('POST', '/v3/pay/transactions/native', client.nativeOrder(outTradeNo, notifyUrl));
  expect(created.status).toBe(200);
  const paid = await control(serverUrl, 'POST', '/sandbox/pay', { outTradeNo });
  expect(paid.status).toBe(200);
  return { outTradeNo, paid: paid.body };
}

async function ledgerOf(outTradeNo: string): Promise<any> {
  const res = await control(server.url, 'GET', `/sandbox/ledger?outTradeNo=${outTradeNo}`);
  return res.body.trades[0];
}

const isProbe = (n: ReceivedNotification) => String(n.headers['wechatpay-signature']).startsWith('WECHATPAY/SIGNTEST/');

describe('payment notification', () => {
  it('is delivered promptly, signed by the platform key, and decrypts to the paid transaction', async () => {
    const receiver = await startNotificationReceiver();
    try {
      const before = Date.now();
      const { outTradeNo, paid } = await orderAndPay(receiver.url);
      await receiver.waitFor(1);
      const [n] = receiver.received;
      expect(n!.atMs - before).toBeLessThan(1_000);
      expect(verifyPlatformSignature(client.platformKey!, n!.headers, n!.body)).toBe(true);
      expect(n!.headers['wechatpay-serial']).toBe(client.platformKeyId);
      expect(n!.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
      expect(n!.headers['request-id']).toEqual(expect.any(String));

      const envelope = JSON.parse(n!.body);
      expect(envelope).toMatchObject({
        resource_type: 'encrypt-resource',
        event_type: 'TRANSACTION.SUCCESS',
        resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', associated_data: 'transaction' },
      });
      expect(envelope.id).toMatch(/^EV-\d+$/);
      expect(envelope.create_time).toMatch(/\+08:00$/);
      expect(envelope.resource.nonce).toHaveLength(12);

      const transaction = decryptResource(client.merchant.apiV3Key, envelope.resource);
      expect(transaction).toMatchObject({
        appid: client.merchant.appId,
        mchid: client.merchant.mchId,
        out_trade_no: outTradeNo,
        transaction_id: paid.transactionId,
        trade_type: 'NATIVE',
        trade_state: 'SUCCESS',
        amount: { total: 1234, payer_total: 1234, currency: 'CNY', payer_currency: 'CNY' },
      });
      expect(transaction.success_time).toMatch(/\+08:00$/);
      expect((transaction.payer as { openid: string }).openid).toEqual(expect.any(String));

      await eventually(async () =>
        expect(await ledgerOf(outTradeNo)).toMatchObject({ state: 'paid', notificationsSent: 1, notificationsAcknowledged: 1 }),
      );
    } finally {
      await receiver.close();
    }
  });

  it('is retried on the scaled schedule with the same id until the receiver answers 200', async () => {
    const receiver = await startNotificationReceiver((_n, index) => (index < 2 ? 500 : 200));
    try {
      const { outTradeNo } = await orderAndPay(receiver.url);
      await receiver.waitFor(3);
      await new Promise((r) => setTimeout(r, 3 * FIRST_RETRY_DELAY_MS)); // a fourth delivery would have come by now
      const deliveries = receiver.received;
      expect(deliveries).toHaveLength(3);
      expect(new Set(deliveries.map((n) => JSON.parse(n.body).id)).size).toBe(1);
      for (const gap of [deliveries[1]!.atMs - deliveries[0]!.atMs, deliveries[2]!.atMs - deliveries[1]!.atMs]) {
        expect(gap).toBeGreaterThanOrEqual(FIRST_RETRY_DELAY_MS - 5);
        expect(gap).toBeLessThan(FIRST_RETRY_DELAY_MS + 1_000); // generous: a loaded CI machine runs timers late
      }
      expect(await ledgerOf(outTradeNo)).toMatchObject({ notificationsSent: 3, notificationsAcknowledged: 1 });
    } finally {
      await receiver.close();
    }
  });

  it('is given up after the 15 retries of the schedule', async () => {
    const fast = await serveSandbox(server.pool, { timeScale: 0.00001, notifyTimeoutMs: 1_000 });
    const receiver = await startNotificationReceiver(() => 503);
    try {
      const { outTradeNo } = await orderAndPay(receiver.url, fast.url);
      await receiver.waitFor(16, 8_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).toHaveLength(16);
      expect(await ledgerOf(outTradeNo)).toMatchObject({ notificationsSent: 16, notificationsAcknowledged: 0 });
    } finally {
      await receiver.close();
      await fast.close();
    }
  }, SLOW_TEST_TIMEOUT_MS);

  it('counts a receiver that does not answer within notifyTimeoutMs as a failed attempt', async () => {
    const impatient = await serveSandbox(server.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 100 });
    const receiver = await startNotificationReceiver((_n, index) => (index === 0 ? 'no_answer' : 204));
    try {
      const { outTradeNo } = await orderAndPay(receiver.url, impatient.url);
      await eventually(async () =>
        expect(await ledgerOf(outTradeNo)).toMatchObject({ notificationsSent: 2, notificationsAcknowledged: 1 }),
      );
    } finally {
      await receiver.close();
      await impatient.close();
    }
  });
});

describe('notification faults', () => {
  it.each([
    ['dropNotifications', { dropNotifications: true }],
    ['dropNotificationRate 1', { dropNotificationRate: 1 }],
  ])('%s records the notification as dropped and delivers nothing', async (_name, fault) => {
    const receiver = await startNotificationReceiver();
    await control(server.url, 'PUT', '/sandbox/faults', fault);
    try {
      const { outTradeNo, paid } = await orderAndPay(receiver.url);
      expect(paid.notificationsDropped).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).toHaveLength(0);
      expect(await ledgerOf(outTradeNo)).toMatchObject({ state: 'paid', notificationsSent: 0, notificationsDropped: 1 });
    } finally {
      await control(server.url, 'DELETE', '/sandbox/faults');
      await receiver.close();
    }
  });

  it('duplicateNotifications sends every delivery twice', async () => {
    const receiver = await startNotificationReceiver();
    await control(server.url, 'PUT', '/sandbox/faults', { duplicateNotifications: true });
    try {
      const { outTradeNo } = await orderAndPay(receiver.url);
      await receiver.waitFor(2);
      await new Promise((r) => setTimeout(r, 2 * FIRST_RETRY_DELAY_MS));
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received[0]!.body).toBe(receiver.received[1]!.body);
      expect(receiver.received[0]!.headers['wechatpay-nonce']).not.toBe(receiver.received[1]!.headers['wechatpay-nonce']);
      expect(await ledgerOf(outTradeNo)).toMatchObject({ notificationsSent: 2, notificationsAcknowledged: 1 });
    } finally {
      await control(server.url, 'DELETE', '/sandbox/faults');
      await receiver.close();
    }
  });

  it('delayNotificationsMs holds the first send back', async () => {
    const receiver = await startNotificationReceiver();
    await control(server.url, 'PUT', '/sandbox/faults', { delayNotificationsMs: 400 });
    try {
      const before = Date.now();
      await orderAndPay(receiver.url);
      await receiver.waitFor(1);
      expect(receiver.received[0]!.atMs - before).toBeGreaterThanOrEqual(400);
    } finally {
      await control(server.url, 'DELETE', '/sandbox/faults');
      await receiver.close();
    }
  });

  it('signtestProbes adds a probe whose signature cannot verify', async () => {
    // A correct receiver: 401 for what does not verify, 200 otherwise.
    const receiver = await startNotificationReceiver((n) => (verifyPlatformSignature(client.platformKey!, n.headers, n.body) ? 200 : 401));
    await control(server.url, 'PUT', '/sandbox/faults', { signtestProbes: true });
    try {
      const { outTradeNo } = await orderAndPay(receiver.url);
      await receiver.waitFor(2);
      expect(receiver.received.filter(isProbe)).toHaveLength(1);
      expect(receiver.received.filter((n) => !isProbe(n))).toHaveLength(1);
      await eventually(async () =>
        expect(await ledgerOf(outTradeNo)).toMatchObject({ notificationsSent: 1, notificationsAcknowledged: 1 }),
      );
    } finally {
      await control(server.url, 'DELETE', '/sandbox/faults');
      await receiver.close();
    }
  });
});

describe('durability', () => {
  it('a sandbox restarted on the same ledger resumes an unacknowledged notification', async () => {
    // A ledger of its own: no other sandbox's poller may pick the notification up meanwhile.
    const own = await createTestDatabase();
    let accept = false;
    const receiver = await startNotificationReceiver(() => (accept ? 200 : 500));
    const first = await serveSandbox(own.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
    try {
      const merchant = await WechatpayTestClient.registered(first.url);
      const outTradeNo = 'R' + randomBytes(8).toString('hex');
      await merchant.call('POST', '/v3/pay/transactions/native', merchant.nativeOrder(outTradeNo, receiver.url));
      expect((await control(first.url, 'POST', '/sandbox/pay', { outTradeNo })).status).toBe(200);
      await receiver.waitFor(1);
      await first.close();
      const deliveredBeforeRestart = receiver.received.length;
      accept = true;

      const second = await serveSandbox(own.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
      try {
        await receiver.waitFor(deliveredBeforeRestart + 1);
        expect(new Set(receiver.received.map((n) => JSON.parse(n.body).id)).size).toBe(1);
        await eventually(async () => {
          const { body } = await control(second.url, 'GET', `/sandbox/ledger?outTradeNo=${outTradeNo}`);
          expect(body.trades[0]).toMatchObject({ notificationsAcknowledged: 1, notificationsSent: deliveredBeforeRestart + 1 });
        });
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      await own.drop();
    }
  }, SLOW_TEST_TIMEOUT_MS);
  it('waits for the lease of a crashed sandbox to lapse, then delivers', async () => {
    const own = await createTestDatabase();
    const receiver = await startNotificationReceiver();
    const first = await serveSandbox(own.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
    try {
      const merchant = await WechatpayTestClient.registered(first.url);
      const outTradeNo = 'L' + randomBytes(8).toString('hex');
      await merchant.call('POST', '/v3/pay/transactions/native', merchant.nativeOrder(outTradeNo, receiver.url));
      await control(first.url, 'PUT', '/sandbox/faults', { delayNotificationsMs: 60_000 });
      expect((await control(first.url, 'POST', '/sandbox/pay', { outTradeNo })).status).toBe(200);
      await first.close();
      // The row as a SIGKILLed process leaves it: due, and leased by that process for 500 ms more.
      const leaseLapsesAtMs = Date.now() + 500;
      await own.pool.query(
        `UPDATE sandbox_wechatpay.notifications SET next_attempt_at = now(), lease_owner = 'dead-process', lease_until = $1`,
        [new Date(leaseLapsesAtMs)],
      );
      const second = await serveSandbox(own.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
      try {
        await receiver.waitFor(1);
        expect(receiver.received[0]!.atMs).toBeGreaterThanOrEqual(leaseLapsesAtMs);
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      await own.drop();
    }
  }, SLOW_TEST_TIMEOUT_MS);

  it('two sandboxes polling one ledger send each orphaned notification once', async () => {
    const own = await createTestDatabase();
    const receiver = await startNotificationReceiver();
    const first = await serveSandbox(own.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
    const count = 40;
    try {
      const merchant = await WechatpayTestClient.registered(first.url);
      await control(first.url, 'PUT', '/sandbox/faults', { delayNotificationsMs: 60_000 });
      for (let i = 0; i < count; i += 1) {
        const outTradeNo = `M${i}_${randomBytes(4).toString('hex')}`;
        await merchant.call('POST', '/v3/pay/transactions/native', merchant.nativeOrder(outTradeNo, receiver.url));
        expect((await control(first.url, 'POST', '/sandbox/pay', { outTradeNo })).status).toBe(200);
      }
      await first.close();
      await own.pool.query(`UPDATE sandbox_wechatpay.notifications SET next_attempt_at = now()`);
      const [second, third] = await Promise.all([
        serveSandbox(own.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 }),
        serveSandbox(own.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 }),
      ]);
      try {
        await receiver.waitFor(count);
        await new Promise((r) => setTimeout(r, 300));
        const ids = receiver.received.map((n) => JSON.parse(n.body).id);
        expect(ids).toHaveLength(count);
        expect(new Set(ids).size).toBe(count);
      } finally {
        await Promise.all([second.close(), third.close()]);
      }
    } finally {
      await receiver.close();
      await own.drop();
    }
  }, SLOW_TEST_TIMEOUT_MS);
});
