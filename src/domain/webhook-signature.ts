// Standard Webhooks signatures (https://www.standardwebhooks.com): `v1,<base64 HMAC-SHA256>` over
// `${id}.${timestamp}.${body}`, keyed by the bytes after `whsec_`. Paycenter signs with this file
// and the client kit verifies with it, so both sides can never disagree on the format.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** 32 bytes: the HMAC-SHA256 block-size sweet spot, inside the spec's 24–64. */
const SECRET_BYTES = 32;
const SECRET_BYTES_MIN = 24;
const SECRET_BYTES_MAX = 64;
const SIGNATURE_VERSION = 'v1,';
const DIGEST_BYTES = 32;
/** Five minutes both ways, the spec's default: enough for clock skew, short for replays. */
export const WEBHOOK_TOLERANCE_SEC_DEFAULT = 300;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** `whsec_` followed by canonical base64 of 24 to 64 bytes. */
export function isWebhookSecret(s: unknown): s is string {
  if (typeof s !== 'string' || !s.startsWith(WEBHOOK_SECRET_PREFIX)) return false;
  const encoded = s.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return false;
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= SECRET_BYTES_MIN && bytes <= SECRET_BYTES_MAX;
}

export function signWebhook(secret: string, id: string, timestampSec: number, body: string | Buffer): string {
  return SIGNATURE_VERSION + digest(secret, id, timestampSec, body).toString('base64');
}

export interface SignatureInput {
  secret: string;
  id: string;
  timestampSec: number;
  /** The `webhook-signature` header: space-separated `v1,<base64>`; several during secret rotation. */
  signatures: string;
  /** The body exactly as received: re-serialized JSON would not match. */
  body: string | Buffer;
  nowSec: number;
  toleranceSec?: number;
}

export type SignatureCheck =
  | { ok: true }
  | { ok: false; code: 'bad_signature' | 'timestamp_out_of_tolerance'; message: string };

/**
 * The signature is checked before the timestamp so a forged request reads as `bad_signature`,
 * and `timestamp_out_of_tolerance` always means a genuine message that is late, early or replayed.
 */
export function verifyWebhookSignature(input: SignatureInput): SignatureCheck {
  const expected = digest(input.secret, input.id, input.timestampSec, input.body);
  const matches = input.signatures
    .split(' ')
    .filter((s) => s.startsWith(SIGNATURE_VERSION))
    .map((s) => Buffer.from(s.slice(SIGNATURE_VERSION.length), 'base64'))
    .some((given) => given.length === DIGEST_BYTES && timingSafeEqual(given, expected));
  if (!matches) {
    return {
      ok: false,
      code: 'bad_signature',
      message:
        'no v1 signature matches: check that the secret is the one Paycenter shows for this endpoint and that the body is passed exactly as received (raw bytes, not re-serialized JSON)',
    };
  }
  const toleranceSec = input.toleranceSec ?? WEBHOOK_TOLERANCE_SEC_DEFAULT;
  const skewSec = input.nowSec - input.timestampSec;
  if (Math.abs(skewSec) > toleranceSec) {
    return {
      ok: false,
      code: 'timestamp_out_of_tolerance',
      message: `webhook-timestamp is ${Math.abs(skewSec)} s ${skewSec > 0 ? 'old' : 'in the future'}, more than the ${toleranceSec} s allowed: check this machine's clock, or this is a replay`,
    };
  }
  return { ok: true };
}

function digest(secret: string, id: string, timestampSec: number, body: string | Buffer): Buffer {
  if (!isWebhookSecret(secret)) {
    throw new TypeError(
      `webhook secret must be ${WEBHOOK_SECRET_PREFIX} followed by base64 of ${SECRET_BYTES_MIN}–${SECRET_BYTES_MAX} bytes; copy it exactly as Paycenter shows it`,
    );
  }
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new TypeError(`webhook timestamp must be whole unix seconds, got ${timestampSec}`);
  }
  const key = Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
  // The body is hashed as bytes: what the sender signed, even if it is not valid UTF-8.
  return createHmac('sha256', key).update(`${id}.${timestampSec}.`).update(body).digest();
}
