// Refunds and trade bills of the WeChat Pay sandbox (channels.md §1.8, §1.9; docs/refunds-and-bills.md),
// driven over HTTP by the independent test merchant: the refund's life and notification, its
// idempotency and refusals (concurrent ones included), planted failures, the refund query, the
// API faults, and the bill with its download, plants and refusals.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WechatpayTestClient,
  control,
  decryptResource,
  eventually,
  parseTradeBill,
  sandboxPerFile,
  serveSandbox,
  startNotificationReceiver,
  verifyPlatformSignature,
  type ReceivedNotification,
} from '../helpers/wechatpay-test-client.ts';

/** Refunds finish 2 s × 0.05 = 100 ms after acceptance; notification retries start after 0.75 s. */
const TIME_SCALE = 0.05;
const PAY_NOTIFY_URL = 'http://127.0.0.1:9/notify/wechatpay'; // payment notifications are not under test here
const NATIVE = '/v3/pay/transactions/native';
const REFUNDS = '/v3/refund/domestic/refunds';
const TOTAL_FEN = 1234;
const DAY_MS = 86_400_000;
const BILL_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';

const server = sandboxPerFile({ timeScale: TIME_SCALE });
let client: WechatpayTestClient;
let receiver: Awaited<ReturnType<typeof startNotificationReceiver>>;

const newOutTradeNo = () => 'T' + randomBytes(8).toString('hex');
const newOutRefundNo = () => 'R' + randomBytes(8).toString('hex');
/** The Beijing calendar day `offsetDays` from today. */
const beijingDay = (offsetDays: number) => new Date(Date.now() + 8 * 3600_000 + offsetDays * DAY_MS).toISOString().slice(0, 10);

const newClient = () => WechatpayTestClient.registered(server.url);

async function paidTrade(c: WechatpayTestClient, totalFen = TOTAL_FEN): Promise<{ outTradeNo: string; transactionId: string }> {
  const outTradeNo = newOutTradeNo();
  const order = await c.call('POST', NATIVE, c.nativeOrder(outTradeNo, PAY_NOTIFY_URL, { amount: { total: totalFen, currency: 'CNY' } }));
  expect(order.status).toBe(200);
  const paid = await control(server.url, 'POST', '/sandbox/pay', { outTradeNo });
  expect(paid.status).toBe(200);
  return { outTradeNo, transactionId: paid.body.transactionId };
}

const refund = (c: WechatpayTestClient, outTradeNo: string, outRefundNo: string, refundFen: number, totalFen = TOTAL_FEN) =>
  c.call('POST', REFUNDS, c.refundRequest(outTradeNo, outRefundNo, refundFen, totalFen, receiver.url));
const queryRefund = (c: WechatpayTestClient, outRefundNo: string) => c.call('GET', `${REFUNDS}/${outRefundNo}`);
const queryTrade = (c: WechatpayTestClient, outTradeNo: string) =>
  c.call('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${c.merchant.mchId}`);
const ledgerRefunds = async (outTradeNo: string) => (await control(server.url, 'GET', `/sandbox/refunds?outTradeNo=${outTradeNo}`)).body.refunds;

/** The refund notification of `outRefundNo` once received: envelope, decrypted resource, and whether its signature verifies. */
async function refundNotification(c: WechatpayTestClient, outRefundNo: string) {
  const open = (n: ReceivedNotification) => {
    const envelope = JSON.parse(n.body);
    try {
      return { envelope, resource: decryptResource(c.merchant.apiV3Key, envelope.resource), n };
    } catch {
      return undefined; // another merchant's notification
    }
  };
  let found: ReturnType<typeof open>;
  await eventually(async () => {
    found = receiver.received.map(open).find((o) => o?.resource.out_refund_no === outRefundNo);
    expect(found).toBeDefined();
  });
  const { envelope, resource, n } = found!;
  return { envelope, resource, signatureValid: verifyPlatformSignature(c.platformKey!, n.headers, n.body) };
}

beforeAll(async () => {
  client = await newClient();
  receiver = await startNotificationReceiver(() => 200, '/notify/wechatpay/refund');
});

afterAll(() => receiver.close());

describe('refund', () => {
  it('is accepted as PROCESSING, finishes SUCCESS, notifies REFUND.SUCCESS signed and encrypted, and turns the trade to REFUND', async () => {
    const { outTradeNo, transactionId } = await paidTrade(client);
    const outRefundNo = newOutRefundNo();
    const accepted = await refund(client, outTradeNo, outRefundNo, 234);
    expect(accepted.status).toBe(200);
    expect(accepted.signatureValid).toBe(true);
    expect(accepted.body).toMatchObject({
      out_refund_no: outRefundNo,
      out_trade_no: outTradeNo,
      transaction_id: transactionId,
      status: 'PROCESSING',
      amount: { refund: 234, total: TOTAL_FEN, currency: 'CNY' },
    });
    expect(accepted.body.refund_id).toMatch(/^\d{29}$/);
    expect(accepted.body.success_time).toBeUndefined();

    const { envelope, resource, signatureValid } = await refundNotification(client, outRefundNo);
    expect(signatureValid).toBe(true);
    expect(envelope).toMatchObject({ event_type: 'REFUND.SUCCESS', resource_type: 'encrypt-resource' });
    expect(envelope.resource).toMatchObject({ original_type: 'refund', associated_data: 'refund', algorithm: 'AEAD_AES_256_GCM' });
    expect(resource).toMatchObject({
      mchid: client.merchant.mchId,
      out_trade_no: outTradeNo,
      transaction_id: transactionId,
      out_refund_no: outRefundNo,
      refund_id: accepted.body.refund_id,
      refund_status: 'SUCCESS',
      amount: { total: TOTAL_FEN, refund: 234, payer_total: TOTAL_FEN, payer_refund: 234 },
    });
    expect(resource.success_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);

    const queried = await queryRefund(client, outRefundNo);
    expect(queried.signatureValid).toBe(true);
    expect(queried.body).toMatchObject({ status: 'SUCCESS', refund_id: accepted.body.refund_id, success_time: resource.success_time });
    expect((await queryTrade(client, outTradeNo)).body).toMatchObject({ trade_state: 'REFUND', transaction_id: transactionId });
    expect(await ledgerRefunds(outTradeNo)).toEqual([
      expect.objectContaining({ channel: 'wechatpay', mchId: client.merchant.mchId, outRefundNo, amount: 234, state: 'succeeded', finishedAt: expect.any(String) }),
    ]);
  });

  it('answers a resend of the same out_refund_no with the same refund, and 400 INVALID_REQUEST for another amount', async () => {
    const { outTradeNo } = await paidTrade(client);
    const outRefundNo = newOutRefundNo();
    const first = await refund(client, outTradeNo, outRefundNo, 100);
    const again = await refund(client, outTradeNo, outRefundNo, 100);
    expect(again.status).toBe(200);
    expect(again.body.refund_id).toBe(first.body.refund_id);
    const changed = await refund(client, outTradeNo, outRefundNo, 101);
    expect([changed.status, changed.body.code, changed.signatureValid]).toEqual([400, 'INVALID_REQUEST', true]);
    expect(await ledgerRefunds(outTradeNo)).toHaveLength(1);
  });

  it('refunds up to the paid total and refuses one fen more with 403 NOT_ENOUGH', async () => {
    const { outTradeNo } = await paidTrade(client);
    expect((await refund(client, outTradeNo, newOutRefundNo(), 1000)).status).toBe(200);
    expect((await refund(client, outTradeNo, newOutRefundNo(), TOTAL_FEN - 1000)).status).toBe(200);
    const beyond = await refund(client, outTradeNo, newOutRefundNo(), 1);
    expect([beyond.status, beyond.body.code]).toEqual([403, 'NOT_ENOUGH']);
    expect((await ledgerRefunds(outTradeNo)).map((r: { amount: number }) => r.amount)).toEqual([1000, TOTAL_FEN - 1000]);
  });

  it('accepts no more than the total from 10 concurrent refunds of one trade', async () => {
    const { outTradeNo } = await paidTrade(client);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refund(client, outTradeNo, newOutRefundNo(), 200)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 403, 403, 403, 403]);
    const { rows } = await server.pool.query<{ amount: number }>(
      `SELECT coalesce(sum(amount), 0)::int AS amount FROM sandbox_wechatpay.refunds WHERE out_trade_no = $1 AND state <> 'failed'`,
      [outTradeNo],
    );
    expect(rows[0]!.amount).toBe(1200);
    expect(await ledgerRefunds(outTradeNo)).toHaveLength(6);
  });

  it.each([
    ['an unknown order', 404, 'RESOURCE_NOT_EXISTS', async () => ({ outTradeNo: newOutTradeNo(), change: {} })],
    ['an unpaid order', 404, 'RESOURCE_NOT_EXISTS', async () => {
      const outTradeNo = newOutTradeNo();
      await client.call('POST', NATIVE, client.nativeOrder(outTradeNo, PAY_NOTIFY_URL));
      return { outTradeNo, change: {} };
    }],
    ['more than the order total', 403, 'NOT_ENOUGH', async () => ({ outTradeNo: (await paidTrade(client)).outTradeNo, change: { amount: { refund: TOTAL_FEN + 1, total: TOTAL_FEN, currency: 'CNY' } } })],
    ['a total other than the order total', 400, 'PARAM_ERROR', async () => ({ outTradeNo: (await paidTrade(client)).outTradeNo, change: { amount: { refund: 1, total: TOTAL_FEN + 1, currency: 'CNY' } } })],
    ['no notify_url', 400, 'PARAM_ERROR', async () => ({ outTradeNo: (await paidTrade(client)).outTradeNo, change: { notify_url: undefined } })],
    ['a zero refund', 400, 'PARAM_ERROR', async () => ({ outTradeNo: (await paidTrade(client)).outTradeNo, change: { amount: { refund: 0, total: TOTAL_FEN, currency: 'CNY' } } })],
  ])('refuses a refund of %s with %i %s', async (_name, status, code, setup) => {
    const { outTradeNo, change } = await setup();
    const answer = await client.call('POST', REFUNDS, { ...client.refundRequest(outTradeNo, newOutRefundNo(), 1, TOTAL_FEN, receiver.url), ...change });
    expect([answer.status, answer.body.code, answer.signatureValid]).toEqual([status, code, true]);
    expect(await ledgerRefunds(outTradeNo)).toEqual([]);
  });

  it('fails every refund of a trade set to fail: REFUND.CLOSED, no money moved, the trade paid again', async () => {
    const { outTradeNo } = await paidTrade(client);
    expect((await control(server.url, 'POST', '/sandbox/refund-failures', { outTradeNo })).status).toBe(201);
    const outRefundNo = newOutRefundNo();
    expect((await refund(client, outTradeNo, outRefundNo, TOTAL_FEN)).body.status).toBe('PROCESSING');

    const { envelope, resource, signatureValid } = await refundNotification(client, outRefundNo);
    expect([signatureValid, envelope.event_type, resource.refund_status]).toEqual([true, 'REFUND.CLOSED', 'CLOSED']);
    expect(resource.success_time).toBeUndefined();
    expect((await queryRefund(client, outRefundNo)).body.status).toBe('CLOSED');
    expect((await queryTrade(client, outTradeNo)).body.trade_state).toBe('SUCCESS');
    expect(await ledgerRefunds(outTradeNo)).toEqual([expect.objectContaining({ outRefundNo, state: 'failed', finishedAt: expect.any(String) })]);
    // The closed refund holds no money: the whole total is refundable again (and fails again).
    expect((await refund(client, outTradeNo, newOutRefundNo(), TOTAL_FEN)).status).toBe(200);
  });

  it('finishes and notifies a refund accepted by a sandbox that stopped before it finished', async () => {
    const { outTradeNo } = await paidTrade(client);
    const other = await serveSandbox(server.pool, { timeScale: TIME_SCALE });
    const outRefundNo = newOutRefundNo();
    try {
      const viaOther = new WechatpayTestClient(other.url, client.merchant);
      viaOther.platformKey = client.platformKey;
      expect((await refund(viaOther, outTradeNo, outRefundNo, 500)).status).toBe(200);
    } finally {
      await other.close(); // before the refund finishes: its notification is left to this file's sandbox
    }
    const { resource, signatureValid } = await refundNotification(client, outRefundNo);
    expect([signatureValid, resource.refund_status]).toEqual([true, 'SUCCESS']);
  });
});

describe('refund query', () => {
  it('answers 404 RESOURCE_NOT_EXISTS, signed, for an unknown out_refund_no, and another merchant\'s refund', async () => {
    const unknown = await queryRefund(client, newOutRefundNo());
    expect([unknown.status, unknown.body.code, unknown.signatureValid]).toEqual([404, 'RESOURCE_NOT_EXISTS', true]);
    const { outTradeNo } = await paidTrade(client);
    const outRefundNo = newOutRefundNo();
    expect((await refund(client, outTradeNo, outRefundNo, 1)).status).toBe(200);
    expect((await queryRefund(await newClient(), outRefundNo)).status).toBe(404);
  });
});

describe('API faults on refunds and bills', () => {
  afterAll(async () => {
    await control(server.url, 'DELETE', '/sandbox/faults');
  });

  it('answers 500 SYSTEM_ERROR to queries and bills under queryErrorRate 1', async () => {
    await control(server.url, 'PUT', '/sandbox/faults', { queryErrorRate: 1 });
    const queried = await queryRefund(client, newOutRefundNo());
    expect([queried.status, queried.body.code, queried.signatureValid]).toEqual([500, 'SYSTEM_ERROR', true]);
    const bill = await client.call('GET', `/v3/bill/tradebill?bill_date=${beijingDay(0)}&bill_type=ALL`);
    expect([bill.status, bill.body.code]).toEqual([500, 'SYSTEM_ERROR']);
  });

  it('keeps the refund when createTimeoutRate 1 drops the answer', async () => {
    const { outTradeNo } = await paidTrade(client);
    await control(server.url, 'PUT', '/sandbox/faults', { createTimeoutRate: 1 });
    const outRefundNo = newOutRefundNo();
    await expect(refund(client, outTradeNo, outRefundNo, 10)).rejects.toThrow();
    await control(server.url, 'DELETE', '/sandbox/faults');
    expect((await queryRefund(client, outRefundNo)).body).toMatchObject({ out_refund_no: outRefundNo, amount: { refund: 10 } });
  });

  it('leaves a dropped refund notification out of the trade\'s payment notification counts in the ledger', async () => {
    const { outTradeNo } = await paidTrade(client);
    await control(server.url, 'PUT', '/sandbox/faults', { dropNotificationRate: 1 });
    expect((await refund(client, outTradeNo, newOutRefundNo(), 10)).status).toBe(200);
    await control(server.url, 'DELETE', '/sandbox/faults');
    const ledger = await control(server.url, 'GET', `/sandbox/ledger?outTradeNo=${outTradeNo}`);
    expect(ledger.body.trades).toEqual([expect.objectContaining({ outTradeNo, notificationsDropped: 0 })]);
  });
});

describe('trade bill', () => {
  let biller: WechatpayTestClient;
  let first: { outTradeNo: string; transactionId: string };
  let second: { outTradeNo: string; transactionId: string };
  let refundId: string;
  const outRefundNo = newOutRefundNo();
  const today = beijingDay(0);

  /** The day's bill for `c`: the signed tradebill answer, then the signed download, checked and parsed. */
  async function fetchBill(c: WechatpayTestClient, date: string) {
    const answer = await c.call('GET', `/v3/bill/tradebill?bill_date=${date}&bill_type=ALL`);
    expect([answer.status, answer.signatureValid]).toEqual([200, true]);
    expect(answer.body.hash_type).toBe('SHA1');
    expect(answer.body.download_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sandbox\/wechatpay\/v3\/billdownload\/file\?token=/);
    const file = await c.download(answer.body.download_url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(file.headers.get('wechatpay-signature')).toBeNull();
    expect(createHash('sha1').update(file.bytes).digest('hex')).toBe(answer.body.hash_value);
    return { bill: parseTradeBill(file.bytes.toString('utf8')), downloadUrl: answer.body.download_url as string };
  }

  beforeAll(async () => {
    biller = await newClient(); // a merchant of its own: its bill holds this block's transactions only
    first = await paidTrade(biller);
    second = await paidTrade(biller, 500);
    refundId = (await refund(biller, first.outTradeNo, outRefundNo, 234)).body.refund_id;
    await refundNotification(biller, outRefundNo); // finished: the bill shows it SUCCESS
  });

  it('lists today\'s payments and refund, backticked, by the documented header, with yuan amounts and totals', async () => {
    const { bill } = await fetchBill(biller, today);
    expect(bill.raw[0]).toBe(BILL_HEADER);
    expect(bill.raw.slice(1).every((line) => line.startsWith('`') || line.startsWith('总交易单数'))).toBe(true);
    const byKey = (status: string, outTradeNo: string) => bill.rows.find((r) => r['交易状态'] === status && r['商户订单号'] === outTradeNo);
    expect(bill.rows).toHaveLength(3);
    expect(byKey('SUCCESS', first.outTradeNo)).toMatchObject({
      商户号: biller.merchant.mchId,
      公众账号ID: biller.merchant.appId,
      微信订单号: first.transactionId,
      货币种类: 'CNY',
      应结订单金额: '12.34',
      订单金额: '12.34',
      退款金额: '0.00',
      商户退款单号: '',
    });
    expect(byKey('SUCCESS', second.outTradeNo)).toMatchObject({ 应结订单金额: '5.00', 订单金额: '5.00' });
    expect(byKey('REFUND', first.outTradeNo)).toMatchObject({
      微信订单号: first.transactionId,
      微信退款单号: refundId,
      商户退款单号: outRefundNo,
      退款金额: '2.34',
      申请退款金额: '2.34',
      退款状态: 'SUCCESS',
    });
    expect(byKey('REFUND', first.outTradeNo)!['交易时间']).toMatch(new RegExp(`^${today} \\d{2}:\\d{2}:\\d{2}$`));
    expect(bill.summary).toMatchObject({ 总交易单数: '3', 应结订单总金额: '17.34', 退款总金额: '2.34', 订单总金额: '17.34', 申请退款总金额: '2.34' });
  });

  it('shows the planted differences, and only until the plants are cleared', async () => {
    const plant = (p: Record<string, unknown>) => control(server.url, 'POST', '/sandbox/bill-plants', { channel: 'wechatpay', date: today, plant: p });
    try {
      expect((await plant({ type: 'amount', outTradeNo: second.outTradeNo, amountMinor: 499 })).status).toBe(201);
      expect((await plant({ type: 'omit_refund', outRefundNo })).status).toBe(201);
      const { bill } = await fetchBill(biller, today);
      expect(bill.rows.map((r) => [r['交易状态'], r['商户订单号'], r['应结订单金额']]).sort()).toEqual(
        [['SUCCESS', first.outTradeNo, '12.34'], ['SUCCESS', second.outTradeNo, '4.99']].sort(),
      );
      expect(bill.summary).toMatchObject({ 总交易单数: '2', 应结订单总金额: '17.33', 退款总金额: '0.00' });
    } finally {
      await control(server.url, 'DELETE', '/sandbox/bill-plants');
    }
    expect((await fetchBill(biller, today)).bill.rows).toHaveLength(3);
  });

  it('answers NO_STATEMENT_EXIST for a day without transactions, unless a plant adds one', async () => {
    const yesterday = beijingDay(-1);
    const empty = await biller.call('GET', `/v3/bill/tradebill?bill_date=${yesterday}&bill_type=ALL`);
    expect([empty.status, empty.body.code, empty.signatureValid]).toEqual([400, 'NO_STATEMENT_EXIST', true]);
    const outTradeNo = newOutTradeNo();
    await control(server.url, 'POST', '/sandbox/bill-plants', { channel: 'wechatpay', date: yesterday, plant: { type: 'extra_payment', outTradeNo, amountMinor: 100 } });
    try {
      const { bill } = await fetchBill(biller, yesterday);
      expect(bill.rows).toEqual([expect.objectContaining({ 商户订单号: outTradeNo, 交易状态: 'SUCCESS', 应结订单金额: '1.00' })]);
    } finally {
      await control(server.url, 'DELETE', '/sandbox/bill-plants');
    }
  });

  it.each([
    ['tomorrow', () => `bill_date=${beijingDay(1)}`, 'STATEMENT_CREATING'],
    ['an impossible date', () => 'bill_date=2024-02-30', 'PARAM_ERROR'],
    ['an unknown bill_type', () => `bill_date=${beijingDay(0)}&bill_type=SOME`, 'PARAM_ERROR'],
  ])('refuses %s with 400 %s', async (_name, query, code) => {
    const answer = await biller.call('GET', `/v3/bill/tradebill?${query()}`);
    expect([answer.status, answer.body.code, answer.signatureValid]).toEqual([400, code, true]);
  });

  it('serves a download only to the merchant it was made for, and only to a signed request', async () => {
    const { downloadUrl } = await fetchBill(biller, today);
    const stranger = await newClient();
    const refused = await stranger.download(downloadUrl);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.bytes.toString('utf8')).code).toBe('INVALID_REQUEST');
    expect((await fetch(downloadUrl)).status).toBe(401);
  });
});
