// The TRANSACTION.SUCCESS callback body (channels.md §1.4): the Transaction encrypted with
// AEAD_AES_256_GCM under the merchant's APIv3 key, wrapped in the notification envelope.
import { createCipheriv } from 'node:crypto';
import { toTransaction } from './transaction.ts';
import { formatBeijingTime, newNotificationId, randomAlphanumeric } from './wire-format.ts';
import type { TradeRow } from './store.ts';

const ASSOCIATED_DATA = 'transaction';
const GCM_NONCE_CHARS = 12;

export function buildPaymentNotification(paidTrade: TradeRow, apiV3Key: Buffer, now: Date): { id: string; body: string } {
  const id = newNotificationId(now);
  const nonce = randomAlphanumeric(GCM_NONCE_CHARS);
  const cipher = createCipheriv('aes-256-gcm', apiV3Key, Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(ASSOCIATED_DATA, 'utf8'));
  const ciphertext = Buffer.concat([
    cipher.update(JSON.stringify(toTransaction(paidTrade)), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(), // WeChat appends the 16-byte tag to the ciphertext before base64.
  ]);
  const envelope = {
    id,
    create_time: formatBeijingTime(now),
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: {
      original_type: 'transaction',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: ciphertext.toString('base64'),
      associated_data: ASSOCIATED_DATA,
      nonce,
    },
  };
  return { id, body: JSON.stringify(envelope) };
}
