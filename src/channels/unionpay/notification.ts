// backUrl notifications (channels.md §3.5): a URL-encoded form, blank parameters dropped (ACP's
// getAllRequestParam), verified like an answer, then checked to be ours and read by txnType: a
// consume (01) like a query, a refund (04) like a refund query. Never throws on bad input: every
// refusal is a stable reason code.
import { parseFormFields, plainTextAck, refused, type Refused } from '../notification.ts';
import type { NotificationAck, NotificationResult, RawHttpRequest, RefundStatus, TradeStatus } from '../types.ts';
import type { CertificateChecker } from './certificates.ts';
import { ORDER_ID } from './messages.ts';
import { refundFailedOf, refundSucceededOf } from './refund.ts';
import { isBlank, type Fields } from './sign.ts';
import { isSuccessCode, paidStatusOf } from './trade.ts';
import { verifyMessage, type VerifyFailure } from './verify.ts';

/** A notification is a few KiB (its certificate included); anything far larger is not one. */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;

const TXN_TYPE_CONSUME = '01';
const TXN_TYPE_REFUND = '04';

export type NotificationRefusal =
  | VerifyFailure
  /** Not a readable form, or a verified one without the fields a consume notice has. */
  | 'malformed'
  | 'wrong_merchant'
  /** A verified notice of a transaction this adapter does not make (undo 31, …). */
  | 'unsupported_transaction';

export interface NotificationContext {
  checker: CertificateChecker;
  merId: string;
  now: Date;
}

export function parseUnionpayNotification(request: RawHttpRequest, ctx: NotificationContext): NotificationResult {
  const rawBody = typeof request.rawBody === 'string' ? request.rawBody : '';
  if (rawBody.length > MAX_NOTIFICATION_BYTES) return refuse('malformed');
  const parsed = parseFormFields(rawBody);
  if (!parsed) return refuse('malformed');
  const fields = new Map([...parsed].filter(([, value]) => !isBlank(value)));
  // Read before verification so a refused notice can still trigger a query of its trade; the
  // query, not this body, is what may move the order. A refund's orderId names no trade.
  const txnType = fields.get('txnType');
  const orderId = fields.get('orderId');
  const validOrderId = orderId !== undefined && ORDER_ID.test(orderId) ? orderId : undefined;
  const outTradeNo = txnType === TXN_TYPE_REFUND ? undefined : validOrderId;
  const notificationId = notificationIdOf(fields);
  const verification = verifyMessage(fields, ctx.checker, ctx.now.getTime());
  if (!verification.ok) return refuse(verification.reason, notificationId, outTradeNo);
  if (fields.get('merId') !== ctx.merId) return refuse('wrong_merchant', notificationId, outTradeNo);
  const respCode = fields.get('respCode');
  if (validOrderId === undefined || notificationId === undefined || respCode === undefined) {
    return refuse('malformed', notificationId, outTradeNo);
  }
  if (txnType === TXN_TYPE_CONSUME) {
    const status: TradeStatus = isSuccessCode(respCode) ? paidStatusOf(fields, ctx.now) : { kind: 'not_paid' };
    // A signed success we cannot read (no queryId, bad txnAmt): refused, so the query decides.
    if (status.kind === 'unknown') return refuse('malformed', notificationId, outTradeNo);
    return { verified: true, notificationId, outTradeNo: validOrderId, status };
  }
  if (txnType === TXN_TYPE_REFUND) {
    const status: RefundStatus = isSuccessCode(respCode) ? refundSucceededOf(fields, ctx.now) : refundFailedOf(fields, 'respCode');
    if (status.kind === 'unknown') return refuse('malformed', notificationId);
    // The notice names the consume only by origQryId, never by its orderId.
    return { verified: true, notificationId, outTradeNo: '', refund: { outRefundNo: validOrderId, status } };
  }
  return refuse('unsupported_transaction', notificationId, outTradeNo);
}

/**
 * UnionPay gives a notice no id, so one is built from what identifies it: the transaction
 * (orderId + txnTime + txnType), UnionPay's queryId and the outcome. A resend of the same notice
 * carries the same fields and so the same id. Undefined without orderId, txnTime or txnType.
 */
function notificationIdOf(fields: Fields): string | undefined {
  const orderId = fields.get('orderId');
  const txnTime = fields.get('txnTime');
  const txnType = fields.get('txnType');
  if (orderId === undefined || txnTime === undefined || txnType === undefined) return undefined;
  return `${orderId}:${txnTime}:${txnType}:${fields.get('queryId') ?? '-'}:${fields.get('respCode') ?? '-'}`;
}

const refuse: (reason: NotificationRefusal, notificationId?: string, outTradeNo?: string) => Refused = refused;

/** UnionPay wants HTTP 200 within 10 s and ignores the body; anything else makes it send again. */
export function buildNotificationAck(accepted: boolean): NotificationAck {
  return plainTextAck(accepted, 'ok');
}
