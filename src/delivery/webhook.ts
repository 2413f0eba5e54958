// One webhook POST, signed per Standard Webhooks: webhook-id (the event id, the same on every
// retry), webhook-timestamp, webhook-signature. 2xx acknowledges; 410 means "stop sending".
import { sendRequest } from '../http/request.ts';
import { signWebhook } from '../domain/webhook-signature.ts';
import { parseRetryAfter } from '../domain/delivery-schedule.ts';
import type { OutboundMessage } from './types.ts';

/** Kept in the attempt log: enough to see the receiver's error page or message. */
export const RESPONSE_EXCERPT_CHARS = 512;
/** A receiver's answer is read to the end (so the connection can be reused) up to this size. */
const RESPONSE_BYTES_MAX = 256 * 1024;

export interface WebhookResult {
  outcome: 'delivered' | 'failed' | 'gone';
  statusCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
  retryAfterMs: number | undefined;
}

export async function postWebhook(
  endpoint: { url: string; secret: string },
  message: OutboundMessage,
  timeoutMs: number,
  now: () => Date,
): Promise<WebhookResult> {
  const timestampSec = Math.floor(now().getTime() / 1000);
  const answer = await sendRequest(new URL(endpoint.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Paycenter-Webhooks/1',
      'webhook-id': message.eventId,
      'webhook-timestamp': String(timestampSec),
      'webhook-signature': signWebhook(endpoint.secret, message.eventId, timestampSec, message.body),
    },
    body: message.body,
    timeoutMs,
    maxResponseBytes: RESPONSE_BYTES_MAX,
  });
  if (answer.kind === 'timeout') {
    return { outcome: 'failed', statusCode: null, responseExcerpt: null, error: `no answer within ${timeoutMs} ms`, retryAfterMs: undefined };
  }
  if (answer.kind === 'network_error') {
    return { outcome: 'failed', statusCode: null, responseExcerpt: null, error: answer.detail, retryAfterMs: undefined };
  }
  const { status } = answer;
  const ok = status >= 200 && status <= 299;
  return {
    outcome: ok ? 'delivered' : status === 410 ? 'gone' : 'failed',
    statusCode: status,
    responseExcerpt: answer.bytes.subarray(0, RESPONSE_EXCERPT_CHARS * 4).toString('utf8').slice(0, RESPONSE_EXCERPT_CHARS),
    error: ok ? null : `receiver answered HTTP ${status}`,
    retryAfterMs: parseRetryAfter(answer.header('retry-after'), now().getTime()),
  };
}
