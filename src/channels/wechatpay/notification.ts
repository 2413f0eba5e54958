// Payment and refund notifications (channels.md §1.3–§1.5): verify the signature over the raw body
// first, then read the envelope, decrypt the resource, check it is ours, and map it like a query
// answer (G5).
// Never throws on bad input: every refusal is a stable reason code.
import { refused, type Refused } from '../notification.ts';
import type { NotificationAck, NotificationResult, RawHttpRequest } from '../types.ts';
import { RESOURCE_ALGORITHM, decryptResource } from './decrypt.ts';
import { refundStatusFromRefund } from './refund.ts';
import { isRecord, tradeStatusFromTransaction } from './transaction.ts';
import { headerGetterFromRecord, verifyWechatpaySignature, type PlatformKey, type VerifyFailure } from './verify.ts';

/** Notifications are a few KiB; anything far larger is not one. */
export const MAX_NOTIFICATION_BYTES = 256 * 1024;
const ACK_MESSAGE_MAX_CHARS = 128;

export type NotificationRefusal =
  | VerifyFailure
  | 'bad_envelope'
  | 'unsupported_algorithm'
  | 'decrypt_failed'
  /** Decrypted, but not a readable transaction or refund (not JSON, no out_trade_no / out_refund_no). */
  | 'bad_resource'
  | 'wrong_merchant'
  /** A well-formed notification of a kind we do not handle (neither TRANSACTION.* nor REFUND.*). */
  | 'unsupported_event';

export interface NotificationContext {
  platform: PlatformKey;
  /** The APIv3 key's bytes. */
  apiV3Key: Buffer;
  mchId: string;
  appId: string;
  nowMs: number;
}

interface Envelope {
  id: string | undefined;
  resourceType: unknown;
  eventType: unknown;
  resource: Record<string, unknown> | undefined;
}

type Opened =
  | { ok: true; tx: Record<string, unknown>; outTradeNo: string | undefined }
  | { ok: false; reason: 'bad_envelope' | 'unsupported_algorithm' | 'decrypt_failed' | 'bad_resource' };

export function parseWechatpayNotification(request: RawHttpRequest, ctx: NotificationContext): NotificationResult {
  const rawBody = typeof request.rawBody === 'string' ? request.rawBody : '';
  if (rawBody.length > MAX_NOTIFICATION_BYTES) return refuse('bad_envelope');
  const headers = isRecord(request.headers) ? request.headers : {};
  const verification = verifyWechatpaySignature(
    headerGetterFromRecord(headers as RawHttpRequest['headers']),
    rawBody,
    ctx.platform,
    ctx.nowMs,
  );
  if (!verification.ok) {
    // Refused, and nothing below is trusted. The resource is still opened when it can be: only a
    // holder of the APIv3 key can make one that authenticates, so its out_trade_no is worth an
    // active query (the query, not this body, is what may move the order).
    const unverified = readEnvelope(rawBody);
    const opened = unverified ? openResource(unverified, ctx.apiV3Key) : undefined;
    return refuse(verification.reason, unverified?.id, opened?.ok ? opened.outTradeNo : undefined);
  }
  const envelope = readEnvelope(rawBody);
  if (!envelope || envelope.id === undefined || envelope.resourceType !== 'encrypt-resource') {
    return refuse('bad_envelope', envelope?.id);
  }
  const opened = openResource(envelope, ctx.apiV3Key);
  if (!opened.ok) return refuse(opened.reason, envelope.id);
  const { tx, outTradeNo } = opened;
  if (outTradeNo === undefined) return refuse('bad_resource', envelope.id);
  const id = envelope.id;
  switch (eventKindOf(envelope)) {
    case 'transaction':
      if (tx.mchid !== ctx.mchId || tx.appid !== ctx.appId) return refuse('wrong_merchant', id, outTradeNo);
      return { verified: true, notificationId: id, outTradeNo, status: tradeStatusFromTransaction(tx) };
    case 'refund': {
      // A refund resource names no appid: the merchant is all there is to check.
      if (tx.mchid !== ctx.mchId) return refuse('wrong_merchant', id, outTradeNo);
      const outRefundNo = tx.out_refund_no;
      if (typeof outRefundNo !== 'string' || outRefundNo === '') return refuse('bad_resource', id, outTradeNo);
      const status = refundStatusFromRefund(tx, tx.refund_status);
      return { verified: true, notificationId: id, outTradeNo, refund: { outRefundNo, status } };
    }
    case undefined:
      return refuse('unsupported_event', id, outTradeNo);
  }
}

/** Payments (TRANSACTION.*) and refunds (REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED) share the endpoint. */
function eventKindOf(envelope: Envelope): 'transaction' | 'refund' | undefined {
  const { eventType } = envelope;
  const originalType = envelope.resource?.original_type;
  if (typeof eventType !== 'string') return undefined;
  if (originalType === 'transaction' && eventType.startsWith('TRANSACTION.')) return 'transaction';
  if (originalType === 'refund' && eventType.startsWith('REFUND.')) return 'refund';
  return undefined;
}

const refuse: (reason: NotificationRefusal, notificationId?: string, outTradeNo?: string) => Refused = refused;

function readEnvelope(rawBody: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  return {
    id: typeof parsed.id === 'string' && parsed.id !== '' ? parsed.id : undefined,
    resourceType: parsed.resource_type,
    eventType: parsed.event_type,
    resource: isRecord(parsed.resource) ? parsed.resource : undefined,
  };
}

function openResource(envelope: Envelope, apiV3Key: Buffer): Opened {
  const r = envelope.resource;
  if (!r) return { ok: false, reason: 'bad_envelope' };
  const { algorithm, ciphertext, nonce } = r;
  const associatedData = r.associated_data ?? '';
  if (typeof ciphertext !== 'string' || typeof nonce !== 'string' || typeof associatedData !== 'string') {
    return { ok: false, reason: 'bad_envelope' };
  }
  if (algorithm !== RESOURCE_ALGORITHM) return { ok: false, reason: 'unsupported_algorithm' };
  const plaintext = decryptResource(apiV3Key, nonce, associatedData, ciphertext);
  if (plaintext === undefined) return { ok: false, reason: 'decrypt_failed' };
  let tx: unknown;
  try {
    tx = JSON.parse(plaintext);
  } catch {
    return { ok: false, reason: 'bad_resource' };
  }
  if (!isRecord(tx)) return { ok: false, reason: 'bad_resource' };
  const outTradeNo = typeof tx.out_trade_no === 'string' && tx.out_trade_no !== '' ? tx.out_trade_no : undefined;
  return { ok: true, tx, outTradeNo };
}

/**
 * WeChat decides by HTTP status alone: 2xx = received (no retry), 4xx/5xx = retry. A 200 carrying
 * FAIL would end the retries, so a refusal is always a 400.
 */
export function buildNotificationAck(accepted: boolean, message?: string): NotificationAck {
  if (accepted) return { statusCode: 204, contentType: 'application/json', body: '' };
  const text = (message ?? 'notification refused').slice(0, ACK_MESSAGE_MAX_CHARS);
  return { statusCode: 400, contentType: 'application/json', body: JSON.stringify({ code: 'FAIL', message: text }) };
}
