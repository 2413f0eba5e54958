import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAlipayChannel } from '../../src/channels/alipay/index.ts';
import { alipayTestConfig, rsaKeyPair } from '../helpers/channel-keys.ts';

const app = rsaKeyPair();
const alipay = rsaKeyPair();
const impostor = rsaKeyPair();

const NOW = new Date('2024-05-01T04:00:00Z');
const config = alipayTestConfig({ app, alipay }, 'http://127.0.0.1:1/gateway.do', { requestTimeoutMs: 1000, expiryGraceMs: 60_000, privateKeyType: 'pkcs8' });
const channel = createAlipayChannel(config, { now: () => NOW });

/** A TRADE_SUCCESS notification's fields, as Alipay sends them (channels.md §2.4). */
function fields(over: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    notify_time: '2024-05-01 12:00:02',
    notify_type: 'trade_status_sync',
    notify_id: '2024050100222120002012345678901234',
    app_id: config.appId,
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    trade_no: '2024050122001400000000000001',
    out_trade_no: 'pc0000000000000000000000000001',
    buyer_id: '2088102177846880',
    buyer_logon_id: '159****5620',
    seller_id: config.sellerId,
    trade_status: 'TRADE_SUCCESS',
    total_amount: '88.88',
    receipt_amount: '88.88',
    buyer_pay_amount: '88.88',
    point_amount: '0.00',
    invoice_amount: '88.88',
    subject: '测试 订单 A&B=1+1 100%',
    gmt_create: '2024-05-01 11:59:50',
    gmt_payment: '2024-05-01 11:59:58',
    fund_bill_list: '[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]',
    ...over,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Written from the brief, not from the adapter: all but sign and sign_type, sorted, raw values. */
function signFields(f: Record<string, string>, key = alipay.privateKey): Record<string, string> {
  const content = Object.keys(f)
    .filter((k) => k !== 'sign' && k !== 'sign_type' && f[k] !== '')
    .sort()
    .map((k) => `${k}=${f[k]}`)
    .join('&');
  return { ...f, sign: sign('sha256', Buffer.from(content, 'utf8'), key).toString('base64') };
}

/** Form-encoded as a browser or Alipay would: spaces as "+". */
const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
const request = (rawBody: string) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, rawBody });
const parse = (rawBody: string) => channel.parseNotification(request(rawBody));

describe('alipay notifications (§2.4)', () => {
  it('accepts a signed TRADE_SUCCESS, URL-decoded, and reads it as paid', async () => {
    const body = form(signFields(fields()));
    expect(body).toContain('+'); // the subject's spaces travel as "+", and its "+" as %2B
    expect(await parse(body)).toEqual({
      verified: true,
      notificationId: '2024050100222120002012345678901234',
      outTradeNo: 'pc0000000000000000000000000001',
      status: {
        kind: 'paid',
        channelTradeNo: '2024050122001400000000000001',
        amountMinor: 8888,
        currency: 'CNY',
        paidAt: new Date('2024-05-01T03:59:58Z'),
      },
    });
  });

  it('leaves sign_type out of the signed content: a notification signed with it included fails', async () => {
    const f = fields();
    const withSignType = Object.keys(f).sort().map((k) => `${k}=${f[k]}`).join('&');
    const signed = { ...f, sign: sign('sha256', Buffer.from(withSignType), alipay.privateKey).toString('base64') };
    expect(await parse(form(signed))).toMatchObject({ verified: false, reason: 'bad_signature' });
  });

  it('ignores the value of sign_type (not signed) and the order fields arrive in', async () => {
    const signed = signFields(fields());
    const reordered = Object.fromEntries(Object.entries({ ...signed, sign_type: 'RSA2' }).reverse());
    expect((await parse(form(reordered))).verified).toBe(true);
  });

  it.each([
    ['TRADE_FINISHED', 'paid'],
    ['TRADE_CLOSED', 'closed'],
    ['WAIT_BUYER_PAY', 'not_paid'],
    ['TRADE_SOMETHING', 'unknown'],
  ])('trade_status %s → %s', async (tradeStatus, kind) => {
    const result = await parse(form(signFields(fields({ trade_status: tradeStatus }))));
    expect(result.verified && result.status?.kind).toBe(kind);
  });

  it('a paid notification with an unreadable amount is verified but unknown, never paid', async () => {
    const result = await parse(form(signFields(fields({ total_amount: '88.888' }))));
    expect(result.verified && result.status?.kind).toBe('unknown');
  });

  it('empty fields are not signed (Alipay does not sign what it leaves empty)', async () => {
    const result = await parse(form(signFields(fields({ passback_params: '' }))));
    expect(result.verified).toBe(true);
  });

  it.each<[string, Record<string, string>, string]>([
    ['a signature by another key', signFields(fields(), impostor.privateKey), 'bad_signature'],
    ['a tampered amount', { ...signFields(fields()), total_amount: '0.01' }, 'bad_signature'],
    ['no sign', fields(), 'bad_signature'],
    ['another app', signFields(fields({ app_id: '2021000000000002' })), 'wrong_app'],
    ['no app_id', signFields(fields({ app_id: undefined })), 'wrong_app'],
    ['another seller', signFields(fields({ seller_id: '2088000000000002' })), 'wrong_merchant'],
    ['no seller_id', signFields(fields({ seller_id: undefined })), 'wrong_merchant'],
  ])('refuses %s, still naming the trade so it gets queried', async (_label, f, reason) => {
    expect(await parse(form(f))).toEqual({
      verified: false,
      reason,
      notificationId: '2024050100222120002012345678901234',
      outTradeNo: 'pc0000000000000000000000000001',
    });
  });

  it('refuses a verified notification without notify_id as malformed, still naming the trade', async () => {
    expect(await parse(form(signFields(fields({ notify_id: undefined }))))).toEqual({
      verified: false,
      reason: 'malformed',
      outTradeNo: 'pc0000000000000000000000000001',
    });
  });

  it.each([
    ['an empty body', ''],
    ['whitespace', '  \r\n'],
    ['a field sent twice', `${form(signFields(fields()))}&trade_status=TRADE_SUCCESS`],
    ['a body far too large', `a=${'x'.repeat(300 * 1024)}`],
  ])('refuses %s as malformed', async (_label, body) => {
    expect(await parse(body)).toMatchObject({ verified: false, reason: 'malformed' });
  });

  it('never throws, whatever arrives', async () => {
    for (const body of ['%', '%E4%B8', '{"json":true}', '&&&==&', 'sign=%%%']) {
      expect((await parse(body)).verified).toBe(false);
    }
    const weird = { headers: {}, rawBody: undefined } as unknown as { headers: Record<string, string>; rawBody: string };
    expect((await channel.parseNotification(weird)).verified).toBe(false);
  });

  it('acknowledges with exactly "success", refuses with "fail"', () => {
    expect(channel.notificationAck(true)).toEqual({ statusCode: 200, contentType: 'text/plain', body: 'success' });
    expect(channel.notificationAck(false, 'bad_signature')).toEqual({ statusCode: 400, contentType: 'text/plain', body: 'fail' });
  });

  it('keeps no header as evidence: Alipay signs in the body', () => {
    expect(channel.isEvidenceHeader('content-type')).toBe(false);
    expect(channel.isEvidenceHeader('sign')).toBe(false);
  });
});
