// Turns a webhook delivery into the answer Paycenter should get: 2xx stops its retries, anything
// else makes it deliver again later.
import { WebhookVerificationError } from './errors.ts';
import type { PaycenterEvent } from './types.ts';
import { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from './verify.ts';

export interface WebhookRequest {
  headers: WebhookHeaders;
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Buffer;
}

export interface WebhookResponse {
  /**
   * 200: applied, or a duplicate already applied. 400: failed verification (`error.code` says why;
   * a retry will not help). 500: the handler threw or the secret is malformed; Paycenter retries.
   */
  status: number;
  /** JSON to send with `content-type: application/json`. */
  body: string;
  /** What went wrong on a 400 or 500, for your logs; the body keeps the handler's internals out. */
  error?: unknown;
}

export async function handleWebhook(
  consume: (event: PaycenterEvent) => Promise<{ applied: boolean }>,
  req: WebhookRequest,
  secret: string,
  opts?: VerifyWebhookOptions,
): Promise<WebhookResponse> {
  let event: PaycenterEvent;
  try {
    event = verifyWebhook(req.headers, req.rawBody, secret, opts);
  } catch (err) {
    if (err instanceof WebhookVerificationError) return failure(400, err.code, err.message, err);
    // Only a malformed secret gets here: our side is wrong, so Paycenter should retry once it is fixed.
    return failure(500, 'receiver_misconfigured', err instanceof Error ? err.message : String(err), err);
  }
  try {
    const { applied } = await consume(event);
    return { status: 200, body: JSON.stringify({ received: true, applied }) };
  } catch (err) {
    return failure(500, 'handler_failed', 'the event handler failed; see the receiver logs; Paycenter will deliver the event again', err);
  }
}

function failure(status: number, code: string, message: string, error: unknown): WebhookResponse {
  return { status, body: JSON.stringify({ error: { code, message } }), error };
}
