// The chaos invariant check on real databases: a clean run passes G1–G6 with the right counts, and
// each deliberate corruption fails exactly the guarantee it breaks, naming the right id. Every
// corruption runs inside a transaction that is rolled back, so the tests share one clean scenario.
import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, formatInvariantTable } from '../../src/chaos/invariants.ts';
import { EFFECTS_TABLE, INBOX_TABLE, type InvariantName, type InvariantResult, type WorkloadLog } from '../../src/chaos/types.ts';
import { createInbox } from '../../src/client/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { forgeNotification, readForgeKeys } from '../../src/chaos/forge-wechatpay.ts';
import { getSetting } from '../../src/store/settings.ts';
import { orderBody, startTestPaycenter, waitFor, type TestPaycenter } from '../helpers/paycenter.ts';

let pc: TestPaycenter;
let business: TestDatabase;
let appId: string;
/** The scenario's orders by role, each with its purchase and (if paid for) its out_trade_no. */
const orders = {} as Record<'paid1' | 'paid2' | 'closed' | 'paying' | 'unpaid', { id: string; purchase: string; outTradeNo: string }>;
let cleanLog: WorkloadLog;
/** Events of the scenario, oldest first. */
let events: { id: string; order_id: string; type: string; sequence: number }[];

const run = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function submit(role: keyof typeof orders, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const purchase = `purchase-${role}-${run}`;
  const body = orderBody({ metadata: { chaosPurchase: purchase } });
  const res = await pc.api('POST', '/v1/orders', body, headers);
  expect(res.status).toBe(201);
  orders[role] = { id: res.body.id, purchase, outTradeNo: '' };
  return body;
}

async function pay(role: keyof typeof orders): Promise<void> {
  const res = await pc.api('POST', `/v1/orders/${orders[role].id}/pay`, { channel: 'wechatpay' });
  expect(res.status).toBe(200);
  orders[role].outTradeNo = res.body.payment.outTradeNo;
}

const orderState = async (id: string) => (await pc.api('GET', `/v1/orders/${id}`)).body.state as string;

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
  for (const role of ['paid1', 'paid2', 'closed', 'paying'] as const) await pay(role);
  for (const role of ['paid1', 'paid2'] as const) {
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: orders[role].outTradeNo })).status).toBe(200);
  }
  expect((await pc.api('POST', `/v1/orders/${orders.closed.id}/close`)).status).toBe(200);

  // One forgery, refused, against the order still waiting for its buyer.
  const merchant = await getSetting<{ mchId: string; appId: string; apiV3Key: string }>(pc.db.pool, 'sandbox.wechatpay.merchant');
  const keys = await readForgeKeys(pc.db.pool, merchant!);
  const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const notificationId = `EV-forged-${run}`;
  const { outTradeNo } = orders.paying;
  const forged = forgeNotification(keys, { outTradeNo, amount: 1999, id: notificationId, wrongSigningKey: strangerKey });
  const refused = await fetch(`${pc.baseUrl}/notify/wechatpay`, { method: 'POST', headers: forged.headers, body: forged.body });
  expect(refused.status).toBe(400);
  cleanLog = { forged: [{ channel: 'wechatpay', outTradeNo, kind: 'bad_signature', body: forged.body }] };

  for (const [role, state] of [['paid1', 'PAID'], ['paid2', 'PAID'], ['closed', 'CLOSED']] as const) {
    expect(await waitFor(() => orderState(orders[role].id), (s) => s === state)).toBe(state);
  }
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
    // Per paid or closed order: 3 order rows and 3 attempt rows; the paying one 2 + 2; the unpaid one 1.
    expect(rows[0].n).toBe(3 * 6 + 4 + 1);
    expect(events.map((e) => e.type).sort()).toEqual(['order.closed', 'order.paid', 'order.paid']);
    expect(Object.fromEntries(results.map((r) => [r.name, r.checked]))).toEqual({
      G1: 2, // trades paid at the bank
      G2: 5, // purchases
      G3: 5, // orders
      G4: 3, // events
      G5: 1, // forged notifications
      G6: 23, // transition rows
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
    expect(failing(results)).toEqual(['G1']);
    const violations = violationsOf(results, 'G1');
    expect(violations.map((v) => v.id).sort()).toEqual([orders.paying.outTradeNo, ghost].sort());
    expect(violations.find((v) => v.id === ghost)!.detail).toContain('no wechatpay attempt');
    expect(violations.find((v) => v.id === orders.paying.outTradeNo)!.detail).toContain(`order ${orders.paying.id} is PAYING`);
    expect(results[0]!.checked).toBe(4);
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
    expect(results[1]!.checked).toBe(4);
  });

  it('G3: an order with two SUCCEEDED attempts', async () => {
    const { id } = orders.paid1;
    const results = await checkCorrupted({
      paycenter: async (tx) => {
        const attemptId = `pay_second_${run}`;
        await tx.query(
          `INSERT INTO payment_attempts (id, order_id, channel, method, out_trade_no, amount_minor, currency, state, channel_expires_at)
           VALUES ($1, $2, 'wechatpay', 'native', $3, 1999, 'CNY', 'SUCCEEDED', now())`,
          [attemptId, id, `pcsecond${run.replace(/\W/g, '')}`],
        );
        await audit(tx, id, 'attempt', attemptId, [null, 'CREATING', 'PENDING', 'SUCCEEDED']);
      },
    });
    expect(failing(results)).toEqual(['G3']);
    expect(violationsOf(results, 'G3')).toEqual([{ id, detail: expect.stringContaining('2 attempts SUCCEEDED') }]);
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
    const log = { forged: [...cleanLog.forged, { channel: 'wechatpay', outTradeNo: orders.paid2.outTradeNo, kind: 'bad_signature', body }] };
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
    const log = { forged: [...cleanLog.forged, { channel: 'wechatpay', outTradeNo, kind: 'wrong_amount', body }] };
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
    expect(violationsOf(results, 'G3')).toEqual([{ id, detail: expect.stringContaining('is not_paid at the bank') }]);
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
    expect(results[5]!.checked).toBe(24);
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
