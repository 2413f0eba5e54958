// The console's reads on 100,000 orders: every search shape, the dashboard and the order page are
// planned on an index (no "Seq Scan on orders"), checked on the plan PostgreSQL makes for the exact
// statement the store sends — never on timings. The timings are printed once, for the note.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import type { Queryable } from '../../src/store/db.ts';
import {
  dashboardCounts,
  listNotificationEvidence,
  listOrderEvents,
  listOrderOperatorActions,
  ordersCreatedByHour,
  searchOrders,
  type OrderFilter,
} from '../../src/store/console-orders.ts';

const ORDERS = 100_000;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query("INSERT INTO apps (id, name, api_key_hash) VALUES ('app_bulk', 'bulk', 'hash_bulk')");
  // One order a minute back from now (about 69 days); states as a busy shop has them: mostly PAID
  // and CLOSED, a few PAYING and CREATED, 0.5 % EXCEPTION; a customer id on three orders in four.
  await db.pool.query(
    `INSERT INTO orders (id, app_id, merchant_order_no, amount_minor, currency, subject, customer_id, state, expires_at, created_at, updated_at)
     SELECT 'ord_bulk' || lpad(i::text, 6, '0'), 'app_bulk', 'm-' || i, 100 + i % 1000, 'CNY', 'Order ' || i,
            CASE WHEN i % 4 = 0 THEN NULL ELSE 'cust-' || (i % 5000) END,
            CASE WHEN i % 200 = 0 THEN 'EXCEPTION' WHEN i % 200 < 5 THEN 'PAYING' WHEN i % 200 < 11 THEN 'CREATED'
                 WHEN i % 200 < 60 THEN 'CLOSED' ELSE 'PAID' END,
            now() - i * interval '1 minute' + interval '15 minutes', now() - i * interval '1 minute', now() - i * interval '1 minute'
       FROM generate_series(1, $1) AS i`,
    [ORDERS],
  );
  // An attempt for every order past CREATED: WeChat Pay 60 %, Alipay 38 %, UnionPay 2 % (the rare
  // channel is the hard case for a newest-first search).
  await db.pool.query(
    `INSERT INTO payment_attempts (id, order_id, channel, method, out_trade_no, amount_minor, currency, state, channel_expires_at, created_at)
     SELECT 'pay' || substr(o.id, 4), o.id,
            CASE WHEN n % 50 = 0 THEN 'unionpay' WHEN n % 50 < 20 THEN 'alipay' ELSE 'wechatpay' END, 'native',
            'pc' || substr(o.id, 9), o.amount_minor, 'CNY',
            CASE o.state WHEN 'PAID' THEN 'SUCCEEDED' WHEN 'CLOSED' THEN 'CLOSED' ELSE 'PENDING' END, o.expires_at, o.created_at
       FROM (SELECT *, substr(id, 9)::int AS n FROM orders) o WHERE o.state <> 'CREATED'`,
  );
  await db.pool.query('VACUUM ANALYZE orders, payment_attempts');
});

afterAll(() => db?.drop());

interface Explained {
  plan: string;
  executionMs: number;
}

/** Runs `read` against a Queryable that answers each statement with its EXPLAIN ANALYZE instead. */
async function explain(read: (q: Queryable) => Promise<unknown>): Promise<Explained[]> {
  const plans: Explained[] = [];
  const q = {
    query: async (config: { text: string; values?: unknown[] }) => {
      const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE) ${config.text}`, values: config.values ?? [] });
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      plans.push({ plan, executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan)![1]) });
      return { rows: [{}] };
    },
  } as unknown as Queryable;
  await read(q);
  return plans;
}

/** A cursor deep in the list: the 20,000th newest order. */
async function cursorAt(offset: number, where = 'true'): Promise<NonNullable<OrderFilter['after']>> {
  const { rows } = await db.pool.query(
    `SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt"
       FROM orders WHERE ${where} ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
    [offset],
  );
  return rows[0];
}

const days = (n: number) => new Date(Date.now() - n * 86_400_000);
const timings: string[] = [];

describe('on 100,000 orders', () => {
  it('the data is there', async () => {
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM orders');
    expect(rows[0].n).toBe(ORDERS);
  });

  const searches: [string, () => Promise<OrderFilter>][] = [
    ['newest first, no filter', async () => ({})],
    ['no filter, a page deep', async () => ({ after: await cursorAt(20_000) })],
    ['merchantOrderNo', async () => ({ merchantOrderNo: 'm-4242' })],
    ['customerId', async () => ({ customerId: 'cust-42' })],
    ['customerId, next page', async () => ({ customerId: 'cust-42', after: await cursorAt(5, "customer_id = 'cust-42'") })],
    ['state EXCEPTION', async () => ({ state: 'EXCEPTION' })],
    ['state PAID, a page deep', async () => ({ state: 'PAID', after: await cursorAt(20_000, "state = 'PAID'") })],
    ['channel wechatpay', async () => ({ channel: 'wechatpay' })],
    ['channel unionpay (2 %)', async () => ({ channel: 'unionpay' })],
    ['channel unionpay, a page deep', async () => ({ channel: 'unionpay', after: await cursorAt(20_000) })],
    ['created from/to (one week)', async () => ({ createdFrom: days(30), createdBefore: days(23) })],
    ['state PAYING, created from/to', async () => ({ state: 'PAYING', createdFrom: days(30), createdBefore: days(23) })],
    ['state and channel', async () => ({ state: 'EXCEPTION', channel: 'alipay' })],
    ['customerId and state', async () => ({ customerId: 'cust-42', state: 'PAID' })],
    ['every filter', async () => ({ customerId: 'cust-42', state: 'PAID', channel: 'wechatpay', createdFrom: days(60), createdBefore: days(1) })],
  ];

  it.each(searches)('search: %s uses an index', async (name, filter) => {
    const [explained] = await explain(async (q) => searchOrders(q, await filter(), 51));
    expect(explained!.plan).not.toMatch(/Seq Scan on orders/);
    expect(explained!.plan).toMatch(/Index (Only )?Scan/);
    timings.push(`search ${name}: ${explained!.executionMs.toFixed(2)} ms`);
  });

  it('the dashboard’s counts and hourly chart use indexes', async () => {
    const explained = await explain(async (q) => {
      await dashboardCounts(q, 30_000);
      await ordersCreatedByHour(q);
    });
    for (const { plan } of explained) expect(plan).not.toMatch(/Seq Scan on orders/);
    timings.push(`dashboard counts: ${explained[0]!.executionMs.toFixed(2)} ms`, `orders by hour: ${explained[1]!.executionMs.toFixed(2)} ms`);
  });

  it('the order page’s reads go by order id', async () => {
    const explained = await explain(async (q) => {
      await listNotificationEvidence(q, 'ord_bulk004242', 1000);
      await listOrderEvents(q, 'ord_bulk004242', 1000);
      await listOrderOperatorActions(q, 'ord_bulk004242', 1000);
    });
    expect(explained).toHaveLength(3);
    for (const { plan } of explained) expect(plan).not.toMatch(/Seq Scan on orders/);
  });

  it('a search answers real rows newest first, and the cursor continues without a gap or a repeat', async () => {
    const first = await searchOrders(db.pool, { customerId: 'cust-42' }, 6);
    const rest = await searchOrders(db.pool, { customerId: 'cust-42', after: first[4]!.cursor }, 3);
    const all = await searchOrders(db.pool, { customerId: 'cust-42' }, 8);
    expect([...first.slice(0, 5), ...rest].map((o) => o.id)).toEqual(all.map((o) => o.id));
    expect(all.every((o) => o.customerId === 'cust-42' && o.appName === 'bulk')).toBe(true);
    expect(all.map((o) => o.createdAt.getTime())).toEqual([...all.map((o) => o.createdAt.getTime())].sort((a, b) => b - a));
  });

  afterAll(() => {
    console.log(`Console reads on ${ORDERS} orders (EXPLAIN ANALYZE execution time):\n  ${timings.join('\n  ')}`);
  });
});
