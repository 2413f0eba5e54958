// The chaos invariant check on real databases: a clean run passes G1–G6 with the right counts, and
// each deliberate corruption fails exactly the guarantee it breaks, naming the right id. Every
// corruption runs inside a transaction that is rolled back, so the tests share one clean scenario:
// paid, closed, waiting and unpaid orders, a merchant refund, a duplicate and a late payment (both
// refunded automatically). The final reconciliation (R) runs while Paycenter is still up: clean, and
// with a payment planted in a bill.
import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, formatInvariantTable } from '../../src/chaos/invariants.ts';
import { reconcileRun } from '../../src/chaos/reconcile.ts';
import { beijingDate } from '../../src/domain/reconciliation.ts';
import { buyerPays } from '../../src/harness/buyer.ts';
import { EFFECTS_TABLE, INBOX_TABLE, PURCHASE_METADATA_KEY, type InvariantName, type InvariantResult, type WorkloadLog } from '../../src/chaos/types.ts';
import { createInbox } from '../../src/client/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { forgeNotification, readForgeKeys } from '../../src/chaos/forge-wechatpay.ts';
import { getSetting } from '../../src/store/settings.ts';
import { orderBody, startTestPaycenter, TEST_API_KEY, waitFor, type TestPaycenter } from '../helpers/paycenter.ts';

let pc: TestPaycenter;
let business: TestDatabase;
let appId: string;
/** The scenario's orders by role, each with its purchase and (if paid for) its out_trade_no. */
const orders = {} as Record<
  'paid1' | 'paid2' | 'closed' | 'paying' | 'unpaid' | 'double' | 'late',
  { id: string; purchase: string; outTradeNo: string }
>;
let cleanLog: WorkloadLog;
/** paid2's merchant refund. */
let merchantRefund: { id: string; outRefundNo: string; merchantRefundNo: string };
/** R on the clean scenario, and with a payment the bill has but Paycenter never made. */
let reconciled: { clean: InvariantResult; planted: InvariantResult; plantedTradeNo: string };
/** Events of the scenario, oldest first. */
let events: { id: string; order_id: string; type: string; sequence: number }[];

const run = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function submit(role: keyof typeof orders, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const purchase = `purchase-${role}-${run}`;
  const body = orderBody({ metadata: { [PURCHASE_METADATA_KEY]: purchase } });
  const res = await pc.api('POST', '/v1/orders', body, headers);
  expect(res.status).toBe(201);
  orders[role] = { id: res.body.id, purchase, outTradeNo: '' };
  return body;
}

const settledRefunds = (id: string, n: number) =>
  waitFor(
    async () => (await pc.api('GET', `/v1/orders/${id}/refunds`)).body.data as { id: string; state: string; outRefundNo: string }[],
    (rs) => rs.length === n && rs.every((r) => r.state === 'SUCCEEDED'),
  );
const payWith = async (id: string, channel: string, method?: string) => {
  const res = await pc.api('POST', `/v1/orders/${id}/pay`, { channel, ...(method && { method }) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.payment as { outTradeNo: string; action: null };
};

async function pay(role: keyof typeof orders): Promise<void> {
  orders[role].outTradeNo = (await payWith(orders[role].id, 'wechatpay')).outTradeNo;
}

beforeAll(async () => {
  pc = await startTestPaycenter();
  business = await createTestDatabase();
  appId = pc.running.appId;

  // Two paid purchases; the first retried with its Idempotency-Key and resubmitted under another
  // merchantOrderNo, both answered with the one order.
  const first = await submit('paid1', { 'idempotency-key': `chaos-${run}` });
  const replay = await pc.api('POST', '/v1/orders', first, { 'idempotency-key': `chaos-${run}` });
  expect(replay.body.id).toBe(orders.paid1.id);
  const resubmitted = await pc.api('POST', '/v1/orders', { ...first, merchantOrderNo: `again-${run}` });
  expect(resubmitted.status).toBe(409);
  expect(resubmitted.body.error).toMatchObject({ code: 'duplicate_submission', orderId: orders.paid1.id });
  await submit('paid2');
  await submit('closed');
  await submit('paying');
  await submit('unpaid');
  await submit('double');
  await submit('late');
  for (const role of ['paid1', 'paid2', 'closed', 'paying'] as const) await pay(role);
  for (const role of ['paid1', 'paid2'] as const) {
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: orders[role].outTradeNo })).status).toBe(200);
  }
  expect((await pc.api('POST', `/v1/orders/${orders.closed.id}/close`)).status).toBe(200);

  // A buyer who paid an unscanned Alipay QR code (left CLOSING by the switch) and WeChat Pay at once.
  const qr = await payWith(orders.double.id, 'alipay', 'qr');
  const wechat = await payWith(orders.double.id, 'wechatpay');
  orders.double.outTradeNo = wechat.outTradeNo;
  const both = await Promise.all([buyerPays(pc.baseUrl, { ...qr, action: null }), buyerPays(pc.baseUrl, wechat)]);
  expect(both.map((b) => b.status)).toEqual([200, 200]);
  // A buyer who paid an Alipay QR code after the merchant closed its order.
  const lateQr = await payWith(orders.late.id, 'alipay', 'qr');
  orders.late.outTradeNo = lateQr.outTradeNo;
  expect((await pc.api('POST', `/v1/orders/${orders.late.id}/close`)).status).toBe(200);
  expect((await buyerPays(pc.baseUrl, { ...lateQr, action: null })).status).toBe(200);

  // One forgery, refused, against the order still waiting for its buyer.
  const merchant = await getSetting<{ mchId: string; appId: string; apiV3Key: string }>(pc.db.pool, 'sandbox.wechatpay.merchant');
  const keys = await readForgeKeys(pc.db.pool, merchant!);
  const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const notificationId = `EV-forged-${run}`;
  const { outTradeNo } = orders.paying;
  const forged = forgeNotification(keys, { outTradeNo, amount: 1999, id: notificationId, wrongSigningKey: strangerKey });
  const refused = await fetch(`${pc.baseUrl}/notify/wechatpay`, { method: 'POST', headers: forged.headers, body: forged.body });
  expect(refused.status).toBe(400);
  cleanLog = { forged: [{ channel: 'wechatpay', outTradeNo, kind: 'bad_signature', body: forged.body }], refunds: [] };

  for (const [role, state] of [['paid1', 'PAID'], ['paid2', 'PAID'], ['closed', 'CLOSED'], ['double', 'PAID'], ['late', 'CLOSED']] as const) {
    expect((await pc.waitForState(orders[role].id, state)).state).toBe(state);
  }
  const merchantRefundNo = `refund-${run}`;
  const refunded = await pc.api('POST', `/v1/orders/${orders.paid2.id}/refunds`, { amount: 500, merchantRefundNo });
  expect(refunded.status).toBe(201);
  merchantRefund = { id: refunded.body.id, outRefundNo: refunded.body.outRefundNo, merchantRefundNo };
  cleanLog.refunds.push({ orderId: orders.paid2.id, merchantRefundNo, amount: 500, status: 201, refundId: merchantRefund.id });
  for (const role of ['paid2', 'double', 'late'] as const) expect(await settledRefunds(orders[role].id, 1)).toHaveLength(1);

  const today = [beijingDate(new Date())];
  const reconcile = () => reconcileRun(() => pc.baseUrl, TEST_API_KEY, today);
  const plantedTradeNo = `pcplanted${run.replace(/\W/g, '')}`;
  const clean = await reconcile();
  const plant = { type: 'extra_payment', outTradeNo: plantedTradeNo, amountMinor: 700 };
  expect((await pc.sandbox('POST', '/sandbox/bill-plants', { channel: 'wechatpay', date: today[0], plant })).status).toBe(201);
  const planted = await reconcile();
  await pc.sandbox('DELETE', '/sandbox/bill-plants');
  reconciled = { clean, planted, plantedTradeNo };
  // The system goes quiet before it is judged, as in `paycenter chaos`; the database stays.
  await pc.running.stop();

  // A correct receiver: the client kit's inbox table, and each event applied once.
  await createInbox({ pool: business.pool, table: INBOX_TABLE, handler: async () => undefined }).ensureTable();
  await business.pool.query(`CREATE TABLE ${EFFECTS_TABLE} (event_id text NOT NULL, order_id text NOT NULL, type text NOT NULL)`);
  ({ rows: events } = await pc.db.pool.query('SELECT id, order_id, type, sequence FROM events WHERE app_id = $1 ORDER BY position', [appId]));
  for (const e of events) {
    await business.pool.query(`INSERT INTO ${INBOX_TABLE} (event_id, type, order_id, sequence) VALUES ($1, $2, $3, $4)`, [e.id, e.type, e.order_id, e.sequence]);
    await business.pool.query(`INSERT INTO ${EFFECTS_TABLE} (event_id, order_id, type) VALUES ($1, $2, $3)`, [e.id, e.order_id, e.type]);
  }
});

afterAll(async () => {
  await pc?.stop();
  await business?.drop();
});

type Corruption = (tx: pg.PoolClient) => Promise<unknown>;

/** Checks the invariants with the corruptions applied in transactions that are rolled back after. */
async function checkCorrupted(corrupt: { paycenter?: Corruption; business?: Corruption } = {}, log = cleanLog): Promise<InvariantResult[]> {
  const paycenter = await pc.db.pool.connect();
  const receiver = await business.pool.connect();
  try {
    await paycenter.query('BEGIN');
    await receiver.query('BEGIN');
    await corrupt.paycenter?.(paycenter);
    await corrupt.business?.(receiver);
    return await checkInvariants({ paycenter, business: receiver }, log, { appId });
  } finally {
    await paycenter.query('ROLLBACK');
    await receiver.query('ROLLBACK');
    paycenter.release();
    receiver.release();
  }
}

const failing = (results: InvariantResult[]) => results.filter((r) => r.violations.length > 0).map((r) => r.name);
const violationsOf = (results: InvariantResult[], name: InvariantName) => results.find((r) => r.name === name)!.violations;

/** Inserts audit rows one by one, so their ids follow the order given. */
async function audit(tx: pg.PoolClient, orderId: string, entity: 'order' | 'attempt', entityId: string, states: (string | null)[]): Promise<void> {
  for (let i = 1; i < states.length; i++) {
    await tx.query(
      `INSERT INTO transitions (order_id, entity, entity_id, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5, 'chaos test')`,
      [orderId, entity, entityId, states[i - 1], states[i]],
    );
  }
}

/** Marks the waiting order PAID by its attempt, with a legal audit, though the bank was never paid. */
async function markPayingOrderPaid(tx: pg.PoolClient): Promise<void> {
  const { id, outTradeNo } = orders.paying;
  const { rows } = await tx.query(`UPDATE payment_attempts SET state = 'SUCCEEDED' WHERE out_trade_no = $1 RETURNING id`, [outTradeNo]);
  const attemptId = rows[0].id as string;
  await tx.query(`UPDATE orders SET state = 'PAID', paid_attempt_id = $2 WHERE id = $1`, [id, attemptId]);
  await audit(tx, id, 'attempt', attemptId, ['PENDING', 'SUCCEEDED']);
  await audit(tx, id, 'order', id, ['PAYING', 'PAID']);
}

describe('a clean run', () => {
  it('passes G1–G6 with the number of things each one checked', async () => {
    const results = await checkCorrupted();
    expect(results.map((r) => r.name)).toEqual(['G1', 'G2', 'G3', 'G4', 'G5', 'G6']);
    expect(failing(results)).toEqual([]);
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM transitions');
    expect(events.map((e) => e.type).sort()).toEqual([
      'order.closed', 'order.closed', 'order.paid', 'order.paid', 'order.paid',
      'payment.duplicate_refunded', 'payment.late_refunded', 'refund.succeeded',
    ]);
    expect(Object.fromEntries(results.map((r) => [r.name, r.checked]))).toEqual({
      G1: 5, // trades paid at the bank: paid1, paid2, both of double's, late's (the Alipay ones closed by their full refund)
      G2: 7, // purchases
      G3: 7, // orders
      G4: 8, // events
      G5: 1, // forged notifications
      G6: rows[0].n, // transition rows
    });
    const table = formatInvariantTable(results);
    expect(table.match(/ OK$/gm)).toHaveLength(6);
    expect(table).not.toContain('VIOLATED');
  });
});

describe('each corruption fails exactly its invariant', () => {
  it('G1: a trade paid at the bank whose order is not PAID, and one with no attempt at all', async () => {
    const ghost = `pcghost${run.replace(/\W/g, '')}`;
    const results = await checkCorrupted({
      paycenter: async (tx) => {
        await tx.query(
          `UPDATE sandbox_wechatpay.trades SET state = 'SUCCESS', transaction_id = $2, paid_at = now() WHERE out_trade_no = $1`,
          [orders.paying.outTradeNo, `4200paid${run}`],
        );
        await tx.query(
          `INSERT INTO sandbox_wechatpay.trades (mch_id, out_trade_no, app_id, description, notify_url, amount_total, currency,
                                                 request_fingerprint, code_url, state, transaction_id, created_at, paid_at)
           SELECT mch_id, $2, app_id, description, notify_url, amount_total, currency, request_fingerprint, code_url,
                  'SUCCESS', $3, now(), now()
             FROM sandbox_wechatpay.trades WHERE out_trade_no = $1`,
          [orders.paid1.outTradeNo, ghost, `4200ghost${run}`],
        );
      },
    });
    // The paying order's trade paid at the bank is money that order did not keep, too.
    expect(failing(results)).toEqual(['G1', 'G3']);
    expect(violationsOf(results, 'G3')).toEqual([
      { id: orders.paying.id, detail: 'PAYING: the bank collected 1999 and refunded 0, keeping 1999; it should keep 0' },
    ]);
    const violations = violationsOf(results, 'G1');
    expect(violations.map((v) => v.id).sort()).toEqual([orders.paying.outTradeNo, ghost].sort());
    expect(violations.find((v) => v.id === ghost)!.detail).toContain('no wechatpay attempt');
    expect(violations.find((v) => v.id === orders.paying.outTradeNo)!.detail).toContain(`order ${orders.paying.id} is PAYING`);
    expect(results[0]!.checked).toBe(7);
  });

  it('G2: two orders for one purchase', async () => {
    const results = await checkCorrupted({
      paycenter: (tx) =>
        tx.query(`UPDATE orders SET metadata = jsonb_build_object('chaosPurchase', $2::text) WHERE id = $1`, [orders.unpaid.id, orders.paid1.purchase]),
    });
    expect(failing(results)).toEqual(['G2']);
    const [violation, ...others] = violationsOf(results, 'G2');
    expect(others).toEqual([]);
    expect(violation!.id).toBe(orders.paid1.purchase);
    expect(violation!.detail).toContain(orders.paid1.id);
    expect(violation!.detail).toContain(orders.unpaid.id);
    expect(results[1]!.checked).toBe(6);
  });

  it('G3: a duplicate payment left unrefunded (a second SUCCEEDED attempt with no automatic refund)', async () => {
    const { id } = orders.paid1;
    const attemptId = `pay_second_${run}`;
    const results = await checkCorrupted({
      paycenter: async (tx) => {
        await tx.query(
          `INSERT INTO payment_attempts (id, order_id, channel, method, out_trade_no, amount_minor, currency, state, channel_expires_at)
           VALUES ($1, $2, 'wechatpay', 'native', $3, 1999, 'CNY', 'SUCCEEDED', now())`,
          [attemptId, id, `pcsecond${run.replace(/\W/g, '')}`],
        );
        await audit(tx, id, 'attempt', attemptId, [null, 'CREATING', 'PENDING', 'SUCCEEDED']);
      },
    });
    expect(failing(results)).toEqual(['G3']);
    expect(violationsOf(results, 'G3')).toEqual([{ id, detail: `SUCCEEDED attempt(s) ${attemptId} not the paying one and not refunded in full` }]);
  });

  it('G3: the duplicate payment\'s automatic refund removed, though the bank refunded it', async () => {
    const { id } = orders.double;
    let outRefundNo = '';
    const results = await checkCorrupted({
      paycenter: async (tx) => {
        const { rows } = await tx.query(`DELETE FROM refunds WHERE order_id = $1 AND kind = 'duplicate' RETURNING id, out_refund_no`, [id]);
        outRefundNo = rows[0].out_refund_no;
        await tx.query(`DELETE FROM transitions WHERE entity = 'refund' AND entity_id = $1`, [rows[0].id]);
        await tx.query(`UPDATE payment_attempts SET refund_reserved_minor = 0, refunded_minor = 0 WHERE order_id = $1`, [id]);
      },
    });
    expect(failing(results)).toEqual(['G1', 'G3']);
    const g3 = new Map(violationsOf(results, 'G3').map((v) => [v.id, v.detail]));
    expect([...g3.keys()].sort()).toEqual([id, outRefundNo].sort());
    expect(g3.get(id)).toContain('not the paying one and not refunded in full');
    expect(g3.get(outRefundNo)).toBe('refunded 1999 at the bank; Paycenter\'s refund is unknown');
    expect(violationsOf(results, 'G1')[0]!.detail).toContain('and no automatic refund');
  });

  it('G3: a refund the bank made that Paycenter does not know', async () => {
    const { id, outTradeNo } = orders.paid1;
    const outRefundNo = `stranger-${run}`;
    const results = await checkCorrupted({
      paycenter: (tx) =>
        tx.query(
          `INSERT INTO sandbox_wechatpay.trade_refunds (mch_id, out_refund_no, out_trade_no, refund_id, transaction_id, notify_url,
                                                        amount_refund, amount_total, outcome, accepted_at, finishes_at)
           SELECT mch_id, $2, out_trade_no, $3, transaction_id, notify_url, 300, amount_total, 'SUCCESS', now(), now()
             FROM sandbox_wechatpay.trades WHERE out_trade_no = $1`,
          [outTradeNo, outRefundNo, `50300${run}`],
        ),
    });
    expect(failing(results)).toEqual(['G3']);
    const g3 = new Map(violationsOf(results, 'G3').map((v) => [v.id, v.detail]));
    expect([...g3.keys()].sort()).toEqual([id, outRefundNo].sort());
    expect(g3.get(id)).toBe('PAID: the bank collected 1999 and refunded 300, keeping 1699; it should keep 1999 (amount 1999 − merchant refunds 0)');
    expect(g3.get(outRefundNo)).toBe('refunded 300 at the bank; Paycenter\'s refund is unknown');
  });

  it('G3: a merchant refund SUCCEEDED in Paycenter that the bank failed', async () => {
    const { id } = orders.paid2;
    const results = await checkCorrupted({
      paycenter: (tx) => tx.query(`UPDATE sandbox_wechatpay.trade_refunds SET outcome = 'CLOSED' WHERE out_refund_no = $1`, [merchantRefund.outRefundNo]),
    });
    expect(failing(results)).toEqual(['G3']);
    const g3 = new Map(violationsOf(results, 'G3').map((v) => [v.id, v.detail]));
    expect([...g3.keys()].sort()).toEqual([id, merchantRefund.outRefundNo].sort());
    expect(g3.get(id)).toContain('keeping 1999; it should keep 1499');
    expect(g3.get(merchantRefund.outRefundNo)).toBe(`refund ${merchantRefund.id} SUCCEEDED for 500 but the bank has no succeeded refund`);
  });

  it('G3: a refund the API accepted that is not stored as it was answered', async () => {
    const { id } = orders.paid2;
    const log = { ...cleanLog, refunds: [{ ...cleanLog.refunds[0]!, amount: 501, replay: 'different' as const, status: 200 }] };
    const results = await checkCorrupted({}, log);
    expect(failing(results)).toEqual(['G3']);
    expect(violationsOf(results, 'G3')).toEqual([
      { id, detail: `refund ${merchantRefund.merchantRefundNo} of 501 (a replay, different body) was answered 200 as ${merchantRefund.id}, which is not stored so` },
    ]);
  });

  it('G4: an effect missing, one doubled, an event not in the inbox, and rows for an unknown event', async () => {
    const [missing, doubled, uninboxed] = events as [(typeof events)[0], (typeof events)[0], (typeof events)[0]];
    const unknown = `evt_unknown_${run}`;
    const results = await checkCorrupted({
      business: async (tx) => {
        await tx.query(`DELETE FROM ${EFFECTS_TABLE} WHERE event_id = $1`, [missing.id]);
        await tx.query(`INSERT INTO ${EFFECTS_TABLE} (event_id, order_id, type) VALUES ($1, $2, $3)`, [doubled.id, doubled.order_id, doubled.type]);
        await tx.query(`DELETE FROM ${INBOX_TABLE} WHERE event_id = $1`, [uninboxed.id]);
        await tx.query(`INSERT INTO ${INBOX_TABLE} (event_id, type, order_id, sequence) VALUES ($1, 'order.paid', 'ord_unknown', 1)`, [unknown]);
        await tx.query(`INSERT INTO ${EFFECTS_TABLE} (event_id, order_id, type) VALUES ($1, 'ord_unknown', 'order.paid')`, [unknown]);
      },
    });
    expect(failing(results)).toEqual(['G4']);
    const byId = new Map(violationsOf(results, 'G4').map((v) => [v.id, v.detail]));
    expect([...byId.keys()].sort()).toEqual([missing.id, doubled.id, uninboxed.id, unknown].sort());
    expect(byId.get(missing.id)).toContain('applied 0 times');
    expect(byId.get(doubled.id)).toContain('applied 2 times');
    expect(byId.get(uninboxed.id)).toContain("not in the receiver's inbox");
    expect(byId.get(unknown)).toContain('not an event of the app');
  });

  it('G4: an order announced paid twice, under a second event id, even when each id is applied once', async () => {
    const { id } = orders.paid1;
    const again = `evt_again_${run}`;
    const results = await checkCorrupted({
      paycenter: (tx) =>
        tx.query(
          `INSERT INTO events (id, app_id, order_id, type, sequence, data)
           SELECT $1, app_id, order_id, type, sequence + 100, data FROM events WHERE order_id = $2 AND type = 'order.paid'`,
          [again, id],
        ),
      business: async (tx) => {
        await tx.query(`INSERT INTO ${INBOX_TABLE} (event_id, type, order_id, sequence) VALUES ($1, 'order.paid', $2, 101)`, [again, id]);
        await tx.query(`INSERT INTO ${EFFECTS_TABLE} (event_id, order_id, type) VALUES ($1, $2, 'order.paid')`, [again, id]);
      },
    });
    expect(failing(results)).toEqual(['G4']);
    expect(violationsOf(results, 'G4')).toEqual([{ id, detail: expect.stringContaining('order.paid was announced more than once') }]);
  });

  it('G5: a forgery in the log that was never refused', async () => {
    const body = `{"id":"EV-forged-lost-${run}"}`;
    const log = { ...cleanLog, forged: [...cleanLog.forged, { channel: 'wechatpay', outTradeNo: orders.paid2.outTradeNo, kind: 'bad_signature', body }] };
    const results = await checkCorrupted({}, log);
    expect(failing(results)).toEqual(['G5']);
    expect(violationsOf(results, 'G5')).toEqual([
      { id: orders.paid2.outTradeNo, detail: 'a forged wechatpay notification sent 1 time(s) was stored refused 0 time(s)' },
    ]);
    expect(results[4]!.checked).toBe(2);
  });

  it('G5 (and G3): a forgery accepted and its order made PAID though the bank was never paid', async () => {
    const { id, outTradeNo } = orders.paying;
    const notificationId = `EV-forged-accepted-${run}`;
    const body = `{"id":"${notificationId}"}`;
    const log = { ...cleanLog, forged: [...cleanLog.forged, { channel: 'wechatpay', outTradeNo, kind: 'wrong_amount', body }] };
    const results = await checkCorrupted({
      paycenter: async (tx) => {
        await markPayingOrderPaid(tx);
        await tx.query(
          `INSERT INTO notifications (channel, notification_id, verified, outcome, out_trade_no, order_id, headers, body)
           VALUES ('wechatpay', $3, true, 'paid', $1, $2, '{}', $4)`,
          [outTradeNo, id, notificationId, body],
        );
      },
    }, log);
    expect(failing(results)).toEqual(['G3', 'G5']);
    const g5 = new Map(violationsOf(results, 'G5').map((v) => [v.id, v.detail]));
    expect([...g5.keys()].sort()).toEqual([id, outTradeNo].sort());
    expect(g5.get(id)).toMatch(/received forged notifications and is PAID .* is not_paid at the bank/);
    expect(g5.get(outTradeNo)).toContain('a forged wechatpay notification was accepted');
    expect(g5.get(outTradeNo)).toContain('accepted as paid but the trade is not_paid');
    expect(violationsOf(results, 'G3')).toEqual([{ id, detail: expect.stringContaining('was never paid at the bank') }]);
  });

  it('G6: an illegal transition, and a state changed without its audit row', async () => {
    const { id } = orders.paid1;
    let closedAttemptId = '';
    const results = await checkCorrupted({
      paycenter: async (tx) => {
        await audit(tx, id, 'order', id, ['PAID', 'CREATED']);
        const { rows } = await tx.query(`UPDATE payment_attempts SET state = 'FAILED' WHERE order_id = $1 RETURNING id`, [orders.closed.id]);
        closedAttemptId = rows[0].id;
      },
    });
    expect(failing(results)).toEqual(['G6']);
    const g6 = new Map(violationsOf(results, 'G6').map((v) => [v.id, v.detail]));
    expect([...g6.keys()].sort()).toEqual([id, closedAttemptId].sort());
    expect(g6.get(id)).toContain('order PAID → CREATED is not in the order transition table');
    expect(g6.get(id)).toContain('order is PAID but its last audit row says CREATED');
    expect(g6.get(closedAttemptId)).toContain('attempt is FAILED but its last audit row says CLOSED');
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM transitions');
    expect(results[5]!.checked).toBe(rows[0].n + 1);
  });
});

describe('R: the final reconciliation', () => {
  it('finds nothing on the clean scenario, having compared every payment and refund of the day', () => {
    expect(reconciled.clean.violations).toEqual([]);
    // Bill lines of the three channels: 5 payments (paid1, paid2, both of double's, late's) and 3 refunds
    // (paid2's, the duplicate's, the late payment's).
    expect(reconciled.clean.checked).toBe(8);
  });

  it('reports a payment planted in the bill that Paycenter never made, by class', () => {
    const today = beijingDate(new Date());
    expect(reconciled.planted.violations).toEqual([
      { id: reconciled.plantedTradeNo, detail: `wechatpay ${today}: unknown_trade (order unknown, action alert)` },
    ]);
  });
});

describe('formatInvariantTable', () => {
  it('lists at most 20 violations per invariant, counts the rest, and has no colours', () => {
    const violations = Array.from({ length: 25 }, (_, i) => ({ id: `ord_${i}`, detail: `detail ${i}` }));
    const table = formatInvariantTable([
      { name: 'G1', title: 'paid', checked: 1200, violations: [] },
      { name: 'G3', title: 'once', checked: 7, violations },
    ]);
    expect(table).toMatch(/^G1 +paid +1200 +0 +OK$/m);
    expect(table).toMatch(/^G3 +once +7 +25 +VIOLATED$/m);
    expect(table).toContain('  ord_19  detail 19');
    expect(table).not.toContain('ord_20');
    expect(table).toContain('… and 5 more');
    expect(table).not.toMatch(/\x1b\[/);
  });
});
