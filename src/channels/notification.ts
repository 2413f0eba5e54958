// What every adapter's notification handling shares: the refusal it returns, the form bodies
// Alipay and UnionPay post, and the plain-text answer those two read. What a notification means,
// and which answer stops a channel's retries, stays in each adapter.
import type { NotificationAck, NotificationResult } from './types.ts';

export type Refused = Extract<NotificationResult, { verified: false }>;

/**
 * A refusal with the notification's id and out_trade_no when they could be read, so that the
 * service queries the trade instead of trusting the body. Each adapter binds it to its own
 * union of reason codes.
 */
export function refused(reason: string, notificationId?: string, outTradeNo?: string): Refused {
  const result: Refused = { verified: false, reason };
  if (notificationId !== undefined) result.notificationId = notificationId;
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  return result;
}

/**
 * An application/x-www-form-urlencoded body (`+` is a space, `%XX` UTF-8 bytes); undefined when a
 * key repeats: which of the two values was signed cannot be known.
 */
export function parseFormFields(body: string): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (fields.has(key)) return undefined;
    fields.set(key, value);
  }
  return fields;
}

/** HTTP 200 with `acknowledgement` as the whole body, or a 400 `fail` for our own logs and proxies. */
export function plainTextAck(accepted: boolean, acknowledgement: string): NotificationAck {
  return accepted
    ? { statusCode: 200, contentType: 'text/plain', body: acknowledgement }
    : { statusCode: 400, contentType: 'text/plain', body: 'fail' };
}
