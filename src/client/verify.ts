// Verifies a webhook delivery: the Standard Webhooks signature over the raw body, the timestamp,
// and that the signed `webhook-id` is the event the body carries.
import { verifyWebhookSignature } from '../domain/webhook-signature.ts';
import { WebhookVerificationError } from './errors.ts';
import { parseEvent } from './event.ts';
import type { PaycenterEvent } from './types.ts';

/** Node's `req.headers` (any case) or a WHATWG `Headers`. */
export type WebhookHeaders = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, both ways. Default 300 s. */
  toleranceSec?: number;
  /** Current time in ms since the epoch; for tests. Default Date.now. */
  now?: () => number;
}

/** 12 digits reach the year 33658: longer is not a timestamp, and stays a safe integer. */
const TIMESTAMP = /^\d{1,12}$/;

export function verifyWebhook(
  headers: WebhookHeaders,
  rawBody: string | Buffer,
  secret: string,
  opts: VerifyWebhookOptions = {},
): PaycenterEvent {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError(
      'missing_headers',
      'webhook-id, webhook-timestamp and webhook-signature are required: check that the request comes from Paycenter and that proxies pass these headers through',
    );
  }
  if (!TIMESTAMP.test(timestamp)) {
    throw new WebhookVerificationError('missing_headers', `webhook-timestamp must be unix seconds, got ${JSON.stringify(timestamp)}`);
  }
  const check = verifyWebhookSignature({
    secret,
    id,
    timestampSec: Number(timestamp),
    signatures,
    body: rawBody,
    nowSec: Math.floor((opts.now ?? Date.now)() / 1000),
    ...(opts.toleranceSec !== undefined && { toleranceSec: opts.toleranceSec }),
  });
  if (!check.ok) throw new WebhookVerificationError(check.code, check.message);
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString());
  } catch {
    throw new WebhookVerificationError('bad_payload', 'the signed body is not JSON');
  }
  const event = parseEvent(parsed);
  if (event.id !== id) {
    throw new WebhookVerificationError('bad_payload', `the body's id ${event.id} is not the signed webhook-id ${id}`);
  }
  return event;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers.get as (n: string) => string | null)(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  // A repeated header arrives as an array; the signature list is space-separated anyway.
  return Array.isArray(value) ? value.join(' ') : value;
}
