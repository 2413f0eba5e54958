// Alipay's payment notification (channels.md §2.4, §2.5): a form-encoded POST of the trade's
// fields, signed with the Alipay key over everything but sign and sign_type; only an answer of
// exactly `success` acknowledges it. Built once, so every retry carries the same notify_id.
import type { KeyObject } from 'node:crypto';
import { formNotificationSender } from '../form-notification.ts';
import type { NotifierOptions } from '../notifier.ts';
import { withSignature } from './signing.ts';
import type { PaidTrade } from './store.ts';
import { amountFields, fundBills } from './trade-view.ts';
import { formatBeijingTime } from './wire-format.ts';

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
  const params: Record<string, string> = {
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
  return new URLSearchParams(await withSignature(params, alipayKey)).toString();
}

/** A probe is the same notification with its sign corrupted, which a correct receiver refuses. */
export function alipayNotificationSender(notifyTimeoutMs: number): NotifierOptions['send'] {
  return formNotificationSender({
    contentType: 'application/x-www-form-urlencoded; charset=utf-8',
    userAgent: 'paycenter-sandbox-alipay',
    signatureField: 'sign',
    notifyTimeoutMs,
    judge: (answer) => {
      const text = answer.bytes.toString('utf8');
      return {
        acknowledged: answer.status === 200 && text === ACKNOWLEDGEMENT,
        description: `HTTP ${answer.status} ${JSON.stringify(text.slice(0, ANSWER_PREVIEW_CHARS))}`,
      };
    },
  });
}
