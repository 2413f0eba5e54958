// Payment and refund notifications (channels.md §2.4, §2.5): a form-encoded POST signed over its
// own fields. Verify first, then check it names our app and our seller, then read the trade like a
// query answer (G5), or, for a refund notice, name the refund. Never throws on bad input: every
// refusal is a stable reason code, with the out_trade_no when it could be read so that the
// service queries the trade instead.
import type { KeyObject } from 'node:crypto';
import { parseFormFields, plainTextAck, refused, type Refused } from '../notification.ts';
import type { NotificationAck, NotificationResult, RawHttpRequest } from '../types.ts';
import { NOTIFICATION_UNSIGNED_KEYS, buildSignContent, verifyContent } from './sign.ts';
import { tradeStatusFromAlipay } from './trade.ts';

/** Notifications are a few KiB (fund_bill_list, voucher_detail_list); anything far larger is not one. */
export const MAX_NOTIFICATION_BYTES = 256 * 1024;

/**
 * A refund notice (one with out_biz_no, the refund's out_request_no) gives the trade's cumulative
 * refund_fee, not this refund's amount, so it only tells the service to ask.
 */
const REFUND_NOTICE_STATUS = { kind: 'unknown', reason: 'alipay refund notices carry no per-refund amount; confirm by query' } as const;

export type NotificationRefusal =
  /** Not a form body, a repeated field, or a verified one without notify_id / out_trade_no. */
  | 'malformed'
  /** Unsigned, or the signature does not verify with Alipay's public key. */
  | 'bad_signature'
  | 'wrong_app'
  | 'wrong_merchant';

export interface NotificationContext {
  alipayPublicKey: KeyObject;
  appId: string;
  sellerId: string;
  now: Date;
}

export function parseAlipayNotification(request: RawHttpRequest, ctx: NotificationContext): NotificationResult {
  const rawBody = typeof request.rawBody === 'string' ? request.rawBody : '';
  if (rawBody.length > MAX_NOTIFICATION_BYTES) return refuse('malformed');
  const fields = readForm(rawBody);
  if (!fields) return refuse('malformed');
  const notificationId = nonEmpty(fields.notify_id);
  const outTradeNo = nonEmpty(fields.out_trade_no);
  const signature = nonEmpty(fields.sign);
  const content = buildSignContent(fields, NOTIFICATION_UNSIGNED_KEYS);
  if (signature === undefined || !verifyContent(ctx.alipayPublicKey, content, signature)) {
    return refuse('bad_signature', notificationId, outTradeNo);
  }
  if (fields.app_id !== ctx.appId) return refuse('wrong_app', notificationId, outTradeNo);
  if (fields.seller_id !== ctx.sellerId) return refuse('wrong_merchant', notificationId, outTradeNo);
  if (notificationId === undefined || outTradeNo === undefined) return refuse('malformed', notificationId, outTradeNo);
  const outRefundNo = nonEmpty(fields.out_biz_no);
  if (outRefundNo !== undefined) return { verified: true, notificationId, outTradeNo, refund: { outRefundNo, status: REFUND_NOTICE_STATUS } };
  return { verified: true, notificationId, outTradeNo, status: tradeStatusFromAlipay(fields, 'gmt_payment', ctx.now) };
}

/**
 * The decoded fields (`+` is a space, `%XX` UTF-8 bytes, as the form encoding says). Undefined for
 * an empty body or a field sent twice: which of the two Alipay signed cannot be known.
 */
function readForm(rawBody: string): Record<string, string> | undefined {
  if (rawBody.trim() === '') return undefined;
  const form = parseFormFields(rawBody);
  // No prototype: a field named like an Object method is only a field.
  return form && Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(form));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

const refuse: (reason: NotificationRefusal, notificationId?: string, outTradeNo?: string) => Refused = refused;

/**
 * Alipay reads only the body: exactly `success` stops its retries; anything else (here `fail`,
 * with a 4xx for our own logs and proxies) makes it send the notification again.
 */
export function buildNotificationAck(accepted: boolean): NotificationAck {
  return plainTextAck(accepted, 'success');
}
