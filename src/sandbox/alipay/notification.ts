// Alipay's payment and refund notifications (channels.md §2.4, §2.5): a form-encoded POST of the trade's
// fields, signed with the Alipay key over everything but sign and sign_type; only an answer of
// exactly `success` acknowledges it. Built once, so every retry carries the same notify_id.
import type { KeyObject } from 'node:crypto';
import { formNotificationSender } from '../form-notification.ts';
import type { NotifierOptions } from '../notifier.ts';
import { withSignature } from './signing.ts';
import type { PaidTrade } from './store.ts';
import { amountFields, fundBills } from './trade-view.ts';
import { formatBeijingTime, formatYuan } from './wire-format.ts';

/** Alipay's retry delays after each failed attempt (§2.5), at timeScale 1: 8 sends within 25 h. */
export const ALIPAY_RETRY_DELAYS_MS: readonly number[] = [
  240_000, 600_000, 600_000, 3_600_000, 7_200_000, 21_600_000, 54_000_000,
];
/** Alipay documents no answer deadline; the sandbox waits 15 s before it counts an attempt failed. */
export const ALIPAY_NOTIFY_TIMEOUT_MS = 15_000;
/** The whole acknowledgement: no quotes, whitespace or HTML around it (§2.5). */
const ACKNOWLEDGEMENT = 'success';
/** Enough of a refusing answer to say what it was in last_result. */
const ANSWER_PREVIEW_CHARS = 40;

export async function paymentNotificationBody(paid: PaidTrade, notifyId: string, alipayKey: KeyObject, now: Date): Promise<string> {
  return new URLSearchParams(await withSignature(tradeParams(paid, notifyId, now), alipayKey)).toString();
}

/** What a succeeded refund adds to the trade's notice (§2.4); refundedFen is cumulative. */
export interface RefundNotice {
  outRequestNo: string;
  refundedFen: number;
  refundedAt: Date;
  /** The refund took the whole amount: the trade is TRADE_CLOSED from then on. */
  closed: boolean;
}

/** Sent to the payment's notify_url; each refund its own notify_id, constant across its retries. */
export async function refundNotificationBody(paid: PaidTrade, refund: RefundNotice, notifyId: string, alipayKey: KeyObject, now: Date): Promise<string> {
  const params: Record<string, string> = {
    ...tradeParams(paid, notifyId, now),
    trade_status: refund.closed ? 'TRADE_CLOSED' : 'TRADE_SUCCESS',
    out_biz_no: refund.outRequestNo,
    refund_fee: formatYuan(refund.refundedFen),
    gmt_refund: formatBeijingTime(refund.refundedAt),
    ...(refund.closed ? { gmt_close: formatBeijingTime(refund.refundedAt) } : {}),
  };
  return new URLSearchParams(await withSignature(params, alipayKey)).toString();
}

/** The fields every notice of a paid trade carries, before signing. */
function tradeParams(paid: PaidTrade, notifyId: string, now: Date): Record<string, string> {
  return {
    notify_time: formatBeijingTime(now),
    notify_type: 'trade_status_sync',
    notify_id: notifyId,
    app_id: paid.appId,
    auth_app_id: paid.appId,
    charset: 'utf-8',
    version: '1.0',
    trade_no: paid.tradeNo,
    out_trade_no: paid.outTradeNo,
    buyer_id: paid.buyerId,
    buyer_logon_id: paid.buyerLogonId,
    seller_id: paid.sellerId,
    trade_status: 'TRADE_SUCCESS',
    ...amountFields(paid.totalAmountFen, true),
    subject: paid.subject,
    ...(paid.body === null ? {} : { body: paid.body }),
    gmt_create: formatBeijingTime(paid.createdAt),
    gmt_payment: formatBeijingTime(paid.paidAt),
    fund_bill_list: JSON.stringify(fundBills(paid.totalAmountFen)),
  };
}

/** A probe is the same notification with its sign corrupted, which a correct receiver refuses. */
export const sendAlipayNotification: NotifierOptions['send'] = formNotificationSender({
  contentType: 'application/x-www-form-urlencoded; charset=utf-8',
  userAgent: 'paycenter-sandbox-alipay',
  signatureField: 'sign',
  judge: (answer) => {
    const text = answer.bytes.toString('utf8');
    return {
      acknowledged: answer.status === 200 && text === ACKNOWLEDGEMENT,
      description: `HTTP ${answer.status} ${JSON.stringify(text.slice(0, ANSWER_PREVIEW_CHARS))}`,
    };
  },
});
