// Callback bodies (channels.md §1.4): the resource encrypted with AEAD_AES_256_GCM under the
// merchant's APIv3 key, wrapped in the notification envelope. Payments carry the Transaction
// (TRANSACTION.SUCCESS), refunds the refund resource (REFUND.SUCCESS / REFUND.CLOSED).
import { createCipheriv } from 'node:crypto';
import { toTransaction } from './transaction.ts';
import { formatBeijingTime, newNotificationId, randomAlphanumeric } from './wire-format.ts';
import type { TradeRow } from './store.ts';

const GCM_NONCE_CHARS = 12;

interface NotificationEvent {
  eventType: string;
  summary: string;
  /** resource.original_type, also used as the associated_data. */
  originalType: 'transaction' | 'refund';
}

const REFUND_EVENTS: Record<'SUCCESS' | 'CLOSED', NotificationEvent> = {
  SUCCESS: { eventType: 'REFUND.SUCCESS', summary: '退款成功', originalType: 'refund' },
  CLOSED: { eventType: 'REFUND.CLOSED', summary: '退款关闭', originalType: 'refund' },
};

export function buildPaymentNotification(paidTrade: TradeRow, apiV3Key: Buffer, now: Date): { id: string; body: string } {
  const event = { eventType: 'TRANSACTION.SUCCESS', summary: '支付成功', originalType: 'transaction' } as const;
  return buildNotification(event, toTransaction(paidTrade), apiV3Key, now);
}

/** `resource` is the decrypted refund resource; `status` its refund_status. */
export function buildRefundNotification(
  status: 'SUCCESS' | 'CLOSED',
  resource: Record<string, unknown>,
  apiV3Key: Buffer,
  now: Date,
): { id: string; body: string } {
  return buildNotification(REFUND_EVENTS[status], resource, apiV3Key, now);
}

function buildNotification(event: NotificationEvent, resource: unknown, apiV3Key: Buffer, now: Date): { id: string; body: string } {
  const id = newNotificationId(now);
  const nonce = randomAlphanumeric(GCM_NONCE_CHARS);
  const cipher = createCipheriv('aes-256-gcm', apiV3Key, Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(event.originalType, 'utf8'));
  const ciphertext = Buffer.concat([
    cipher.update(JSON.stringify(resource), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(), // WeChat appends the 16-byte tag to the ciphertext before base64.
  ]);
  const envelope = {
    id,
    create_time: formatBeijingTime(now),
    resource_type: 'encrypt-resource',
    event_type: event.eventType,
    summary: event.summary,
    resource: {
      original_type: event.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: ciphertext.toString('base64'),
      associated_data: event.originalType,
      nonce,
    },
  };
  return { id, body: JSON.stringify(envelope) };
}
