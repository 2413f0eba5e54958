// Refunds and daily bills at the Alipay sandbox, driven by the independent test app
// (test/helpers/alipay-test-client.ts) and checked against docs/refunds-and-bills.md: synchronous
// refunds (fund_change Y, then N on a resend), the refusals, the refund notice to the payment's
// notify_url, planted failures, the refund query, and the bill ZIP with its plants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import {
  AlipayTestClient,
  beijingTime,
  control,
  eventually,
  formOf,
  readAlipayBill,
  sandboxPerFile,
  serveSandbox,
  startAlipayReceiver,
  withFaults,
} from '../helpers/alipay-test-client.ts';

const REFUND = 'alipay.trade.refund';
const REFUND_QUERY = 'alipay.trade.fastpay.refund.query';
const BILL_URL = 'alipay.data.dataservice.bill.downloadurl.query';
const DETAIL_HEADER =
  '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注';
const DETAIL_END = '#-----------------------------------------业务明细列表结束------------------------------------';

// alipay-sdk writes `timestamp` in local time and Alipay reads Beijing time (see sandbox-alipay-sdk.test.ts).
process.env.TZ = 'Asia/Shanghai';

const server = sandboxPerFile({ timeScale: 0.001, notifyTimeoutMs: 1_000 });
let client: AlipayTestClient;
let receiver: Awaited<ReturnType<typeof startAlipayReceiver>>;

beforeAll(async () => {
  client = await AlipayTestClient.registered(server.url);
  receiver = await startAlipayReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const newNo = (prefix: string) => prefix + randomBytes(8).toString('hex');
const today = () => beijingTime().slice(0, 10);
const subCodeOf = (answer: { response: { code: string; sub_code?: string } }) => [answer.response.code, answer.response.sub_code];
const refundsOf = async (outTradeNo: string) => (await control(server.url, 'GET', `/sandbox/refunds?outTradeNo=${outTradeNo}`)).body.refunds;
const noticesOf = (outTradeNo: string) => receiver.received.map(formOf).filter((p) => p.get('out_trade_no') === outTradeNo);

/** A trade of `totalAmount` yuan the buyer has paid, its payment notice received. */
async function paidTrade(totalAmount = '10.00', app = client, notifyUrl = receiver.url): Promise<string> {
  const outTradeNo = newNo('R');
  const created = await app.call('alipay.trade.precreate', { out_trade_no: outTradeNo, total_amount: totalAmount, subject: 'Tea, green' }, { notifyUrl });
  expect(created.response.code).toBe('10000');
  expect((await control(server.url, 'POST', '/sandbox/pay', { outTradeNo })).status).toBe(200);
  if (notifyUrl === receiver.url) await eventually(async () => expect(noticesOf(outTradeNo)).toHaveLength(1));
  return outTradeNo;
}

const refund = (outTradeNo: string, amount: string, outRequestNo?: string, app = client) =>
  app.call(REFUND, { out_trade_no: outTradeNo, refund_amount: amount, ...(outRequestNo ? { out_request_no: outRequestNo } : {}) });

describe('alipay.trade.refund', () => {
  it('refunds at once (fund_change Y), notifies the payment notify_url, answers a resend with N, and a full refund closes the trade', async () => {
    const outTradeNo = await paidTrade('10.00');
    const first = await refund(outTradeNo, '3.00', 'R1');
    expect(first.signatureValid).toBe(true);
    expect(first.response).toMatchObject({ code: '10000', fund_change: 'Y', refund_fee: '3.00', out_trade_no: outTradeNo });
    expect(first.response.gmt_refund_pay).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

    await eventually(async () => expect(noticesOf(outTradeNo)).toHaveLength(2));
    const [payment, partial] = noticesOf(outTradeNo);
    expect(client.verifyNotification(partial!)).toBe(true);
    expect(Object.fromEntries(partial!)).toMatchObject({
      trade_status: 'TRADE_SUCCESS', out_biz_no: 'R1', refund_fee: '3.00', total_amount: '10.00', trade_no: first.response.trade_no,
    });
    expect(partial!.get('gmt_refund')).toBe(first.response.gmt_refund_pay);
    expect(partial!.get('notify_id')).not.toBe(payment!.get('notify_id'));

    const again = await refund(outTradeNo, '3.00', 'R1');
    expect(again.response).toMatchObject({ code: '10000', fund_change: 'N', refund_fee: '3.00' });

    const rest = await refund(outTradeNo, '7.00', 'R2');
    expect(rest.response).toMatchObject({ code: '10000', fund_change: 'Y', refund_fee: '10.00' });
    await eventually(async () => expect(noticesOf(outTradeNo)).toHaveLength(3));
    const full = noticesOf(outTradeNo)[2]!;
    expect(client.verifyNotification(full)).toBe(true);
    expect(Object.fromEntries(full)).toMatchObject({ trade_status: 'TRADE_CLOSED', out_biz_no: 'R2', refund_fee: '10.00' });
    expect(full.get('gmt_close')).toBeTruthy();
    expect((await client.call('alipay.trade.query', { out_trade_no: outTradeNo })).response.trade_status).toBe('TRADE_CLOSED');

    const refunds = await refundsOf(outTradeNo);
    expect(refunds.map((r: { outRefundNo: string; amount: number; state: string }) => [r.outRefundNo, r.amount, r.state])).toEqual([
      ['R1', 300, 'succeeded'],
      ['R2', 700, 'succeeded'],
    ]);
    expect(refunds[0]).toMatchObject({ channel: 'alipay', mchId: client.app.appId, outTradeNo });
    expect(noticesOf(outTradeNo)).toHaveLength(3); // the resend moved nothing and told nobody
  });

  it('resends a refund notice until `success`, with the same notify_id', async () => {
    const stubborn = await startAlipayReceiver((params) => (params.get('out_biz_no') && stubborn.received.length < 3 ? 'fail' : 'success'));
    try {
      const outTradeNo = await paidTrade('5.00', client, stubborn.url);
      await stubborn.waitFor(1);
      expect((await refund(outTradeNo, '1.00', 'N1')).response.fund_change).toBe('Y');
      await stubborn.waitFor(3);
      const [, firstTry, retry] = stubborn.received.map(formOf);
      expect(firstTry!.get('out_biz_no')).toBe('N1');
      expect(retry!.get('notify_id')).toBe(firstTry!.get('notify_id'));
      expect(retry!.toString()).toBe(firstTry!.toString());
    } finally {
      await stubborn.close();
    }
  });

  it('sends a refund notice left by a stopped sandbox from the one still running', async () => {
    const outTradeNo = await paidTrade('5.00');
    const other = await serveSandbox(server.pool, { timeScale: 0.001, notifyTimeoutMs: 1_000 });
    try {
      expect((await control(other.url, 'PUT', '/sandbox/faults', { delayNotificationsMs: 300 })).status).toBe(200);
      const viaOther = new AlipayTestClient(other.url, client.app);
      await viaOther.register();
      expect((await refund(outTradeNo, '5.00', 'S1', viaOther)).response.fund_change).toBe('Y');
    } finally {
      await other.close(); // hands the waiting notice back to the ledger
    }
    await eventually(async () => expect(noticesOf(outTradeNo).map((p) => p.get('out_biz_no'))).toContain('S1'));
  });

  it.each([
    ['an unknown trade', 'unknown', '1.00', 'X1', ['40004', 'ACQ.TRADE_NOT_EXIST']],
    ['more than is left to refund', 'paid', '10.01', 'X2', ['40004', 'ACQ.REASON_TRADE_REFUND_FEE_ERR']],
    ['a partial refund without out_request_no', 'paid', '1.00', undefined, ['40004', 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL']],
    ['an amount that is not yuan', 'paid', '1.001', 'X3', ['40004', 'ACQ.INVALID_PARAMETER']],
  ])('refuses %s', async (_name, which, amount, outRequestNo, expected) => {
    const outTradeNo = which === 'unknown' ? newNo('U') : await paidTrade('10.00');
    const answer = await refund(outTradeNo, amount, outRequestNo);
    expect(answer.signatureValid).toBe(true);
    expect(subCodeOf(answer)).toEqual(expected);
    expect(await refundsOf(outTradeNo)).toEqual([]);
  });

  it('refuses an unpaid trade, and another amount under a used out_request_no', async () => {
    const unpaid = newNo('W');
    await client.call('alipay.trade.precreate', { out_trade_no: unpaid, total_amount: '2.00', subject: 'Tea' });
    expect(subCodeOf(await refund(unpaid, '2.00', 'W1'))).toEqual(['40004', 'ACQ.TRADE_NOT_EXIST']); // nobody scanned it
    expect((await control(server.url, 'POST', '/sandbox/alipay/scan', { outTradeNo: unpaid })).status).toBe(200);
    expect(subCodeOf(await refund(unpaid, '2.00', 'W1'))).toEqual(['40004', 'ACQ.TRADE_STATUS_ERROR']);

    const paid = await paidTrade('10.00');
    expect((await refund(paid, '1.00', 'C1')).response.fund_change).toBe('Y');
    expect(subCodeOf(await refund(paid, '2.00', 'C1'))).toEqual(['40004', 'ACQ.CONTEXT_INCONSISTENT']);
    expect((await refundsOf(paid)).map((r: { amount: number }) => r.amount)).toEqual([100]);
  });

  it('never refunds more than was paid, even for 10 concurrent requests', async () => {
    const outTradeNo = await paidTrade('10.00');
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => refund(outTradeNo, '3.00', `P${i}`)));
    const accepted = answers.filter((a) => a.response.fund_change === 'Y');
    expect(accepted).toHaveLength(3);
    for (const a of answers.filter((a) => a.response.code !== '10000')) expect(a.response.sub_code).toBe('ACQ.REASON_TRADE_REFUND_FEE_ERR');
    const refunds = await refundsOf(outTradeNo);
    expect(refunds.reduce((sum: number, r: { amount: number }) => sum + r.amount, 0)).toBe(900);
    expect((await refund(outTradeNo, '1.00', 'P10')).response.fund_change).toBe('Y');
    expect(subCodeOf(await refund(outTradeNo, '0.01', 'P11'))).toEqual(['40004', 'ACQ.REASON_TRADE_REFUND_FEE_ERR']);
  });

  it('fails every refund of a trade set to fail: SELLER_BALANCE_NOT_ENOUGH, recorded failed, nothing moved', async () => {
    const outTradeNo = await paidTrade('4.00');
    expect((await control(server.url, 'POST', '/sandbox/refund-failures', { outTradeNo })).status).toBe(201);
    const answer = await refund(outTradeNo, '4.00', 'F1');
    expect(answer.signatureValid).toBe(true);
    expect(subCodeOf(answer)).toEqual(['40004', 'ACQ.SELLER_BALANCE_NOT_ENOUGH']);
    expect(subCodeOf(await refund(outTradeNo, '4.00', 'F1'))).toEqual(['40004', 'ACQ.SELLER_BALANCE_NOT_ENOUGH']);
    expect(await refundsOf(outTradeNo)).toMatchObject([{ outRefundNo: 'F1', amount: 400, state: 'failed' }]);
    expect((await client.call('alipay.trade.query', { out_trade_no: outTradeNo })).response.trade_status).toBe('TRADE_SUCCESS');
    const queried = await client.call(REFUND_QUERY, { out_trade_no: outTradeNo, out_request_no: 'F1' });
    expect(queried.response.code).toBe('10000');
    expect(queried.response.refund_amount).toBeUndefined();
    expect(noticesOf(outTradeNo)).toHaveLength(1);
  });

  it('applies the refund and then hangs up under createTimeoutRate; the resend says N', async () => {
    const outTradeNo = await paidTrade('6.00');
    await withFaults(server.url, { createTimeoutRate: 1 }, async () => {
      await expect(refund(outTradeNo, '6.00', 'T1')).rejects.toThrow();
    });
    expect(await refundsOf(outTradeNo)).toMatchObject([{ outRefundNo: 'T1', amount: 600, state: 'succeeded' }]);
    expect((await refund(outTradeNo, '6.00', 'T1')).response).toMatchObject({ fund_change: 'N', refund_fee: '6.00' });
  });
});

describe('alipay-sdk as a second, independent client', () => {
  it('refunds and queries with every answer sign verified by the official SDK', async () => {
    const outTradeNo = await paidTrade('9.00');
    const sdk = new AlipaySdk({
      appId: client.app.appId,
      privateKey: client.app.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      keyType: 'PKCS8',
      alipayPublicKey: client.alipayPublicKeyPem!,
      gateway: `${server.url}/sandbox/alipay/gateway.do`,
      timeout: 5_000,
    });
    const bizContent = { outTradeNo, refundAmount: '4.00', outRequestNo: 'K1' };
    expect(await sdk.exec(REFUND, { bizContent }, { validateSign: true })).toMatchObject({ code: '10000', fundChange: 'Y', refundFee: '4.00' });
    expect(await sdk.exec(REFUND_QUERY, { bizContent: { outTradeNo, outRequestNo: 'K1' } }, { validateSign: true }))
      .toMatchObject({ code: '10000', refundAmount: '4.00', totalAmount: '9.00' });
    const bill = await sdk.exec(BILL_URL, { bizContent: { billType: 'trade', billDate: today() } }, { validateSign: true });
    expect(bill.billDownloadUrl).toContain('/sandbox/alipay/downloadBillFile.resource');
  });
});

describe('alipay.trade.fastpay.refund.query', () => {
  it('finds a refund, and answers 10000 without refund_amount for none', async () => {
    const outTradeNo = await paidTrade('8.00');
    expect((await refund(outTradeNo, '2.50', 'Q1')).response.fund_change).toBe('Y');
    const found = await client.call(REFUND_QUERY, { out_trade_no: outTradeNo, out_request_no: 'Q1' });
    expect(found.signatureValid).toBe(true);
    expect(found.response).toMatchObject({
      code: '10000', out_trade_no: outTradeNo, out_request_no: 'Q1', refund_amount: '2.50', total_amount: '8.00', refund_status: 'REFUND_SUCCESS',
    });
    for (const biz of [{ out_trade_no: outTradeNo, out_request_no: 'Q2' }, { out_trade_no: newNo('U'), out_request_no: 'Q1' }]) {
      const none = await client.call(REFUND_QUERY, biz);
      expect(none.response.code).toBe('10000');
      expect(none.response.refund_amount).toBeUndefined();
    }
  });

  it('finds a full refund made without out_request_no under the out_trade_no', async () => {
    const outTradeNo = await paidTrade('3.00');
    expect((await refund(outTradeNo, '3.00')).response.fund_change).toBe('Y');
    const found = await client.call(REFUND_QUERY, { out_trade_no: outTradeNo });
    expect(found.response).toMatchObject({ out_request_no: outTradeNo, refund_amount: '3.00' });
  });

  it('answers a signed 20000 under queryErrorRate', async () => {
    const answer = await withFaults(server.url, { queryErrorRate: 1 }, () => client.call(REFUND_QUERY, { out_trade_no: newNo('U'), out_request_no: 'E1' }));
    expect(answer.signatureValid).toBe(true);
    expect(subCodeOf(answer)).toEqual(['20000', 'ACQ.SYSTEM_ERROR']);
  });
});

describe('the daily bill', () => {
  /** Its own app, so the bill holds this test's transactions only. */
  const freshApp = () => AlipayTestClient.registered(server.url);

  async function billOf(app: AlipayTestClient, billDate = today()) {
    const answer = await app.call(BILL_URL, { bill_type: 'trade', bill_date: billDate });
    expect(answer.signatureValid).toBe(true);
    expect(answer.response.code).toBe('10000');
    const url = answer.response.bill_download_url as string;
    expect(url.startsWith(server.url)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    return readAlipayBill(new Uint8Array(await res.arrayBuffer()));
  }

  it('holds today\'s payment and refund in two GBK CSV files, refunds negative', async () => {
    const app = await freshApp();
    const outTradeNo = await paidTrade('10.00', app, 'http://127.0.0.1:9/notify');
    const refunded = await refund(outTradeNo, '2.50', 'B1', app);
    expect(refunded.response.fund_change).toBe('Y');

    const bill = await billOf(app);
    const day = today().replaceAll('-', '');
    expect(bill.fileNames.sort()).toEqual([`${app.sellerId}_${day}_业务明细(汇总).csv`, `${app.sellerId}_${day}_业务明细.csv`].sort());
    expect(bill.header.join(',')).toBe(DETAIL_HEADER);
    expect(bill.text[`${app.sellerId}_${day}_业务明细.csv`]).toContain(DETAIL_END);
    expect(bill.rows).toHaveLength(2);
    const [payment, refundLine] = bill.rows;
    expect(payment).toMatchObject({ 支付宝交易号: refunded.response.trade_no, 商户订单号: outTradeNo, 业务类型: '交易', '订单金额（元）': '10.00', 商品名称: 'Tea, green' });
    expect(refundLine).toMatchObject({ 商户订单号: outTradeNo, 业务类型: '退款', '订单金额（元）': '-2.50', '退款批次号/请求号': 'B1' });
    const summary = bill.text[`${app.sellerId}_${day}_业务明细(汇总).csv`]!;
    expect(summary.find((l) => l.startsWith('合计'))).toBe('合计,,1,1,7.50,7.50,0.00,0.00,0.00,0.00,0.00,7.50');
  });

  it('shows what was planted, and only in the bill', async () => {
    const app = await freshApp();
    const outTradeNo = await paidTrade('10.00', app, 'http://127.0.0.1:9/notify');
    const plant = (p: Record<string, unknown>) => control(server.url, 'POST', '/sandbox/bill-plants', { channel: 'alipay', date: today(), plant: p });
    try {
      expect((await plant({ type: 'amount', outTradeNo, amountMinor: 999 })).status).toBe(201);
      expect((await plant({ type: 'extra_refund', outTradeNo, outRefundNo: 'GHOST', amountMinor: 100 })).status).toBe(201);
      const bill = await billOf(app);
      expect(bill.rows.map((r) => [r.业务类型, r['订单金额（元）'], r['退款批次号/请求号']])).toEqual([
        ['交易', '9.99', ''],
        ['退款', '-1.00', 'GHOST'],
      ]);
      expect(await refundsOf(outTradeNo)).toEqual([]);
    } finally {
      await control(server.url, 'DELETE', '/sandbox/bill-plants');
    }
    expect((await billOf(app)).rows.map((r) => r['订单金额（元）'])).toEqual(['10.00']);
  });

  it('refuses a future day as not ready, and answers isp.bill_not_exist for an empty one', async () => {
    const app = await freshApp();
    const tomorrow = beijingTime(new Date(Date.now() + 86_400_000)).slice(0, 10);
    expect(subCodeOf(await app.call(BILL_URL, { bill_type: 'trade', bill_date: tomorrow }))).toEqual(['40004', 'isv.invalid_arguments']);
    expect(subCodeOf(await app.call(BILL_URL, { bill_type: 'trade', bill_date: today() }))).toEqual(['40004', 'isp.bill_not_exist']);
    expect(subCodeOf(await app.call(BILL_URL, { bill_type: 'trade', bill_date: '2024-02-30' }))).toEqual(['40004', 'isv.invalid_arguments']);
  });

  it('serves a download URL to nobody else: an unknown token is 404', async () => {
    const res = await fetch(`${server.url}/sandbox/alipay/downloadBillFile.resource?token=${randomBytes(16).toString('hex')}`);
    expect(res.status).toBe(404);
  });
});
