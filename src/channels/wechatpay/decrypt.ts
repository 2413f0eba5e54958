// AEAD_AES_256_GCM decryption of notification resources (channels.md §1.4).
import { createDecipheriv } from 'node:crypto';

export const RESOURCE_ALGORITHM = 'AEAD_AES_256_GCM';
const GCM_TAG_BYTES = 16;
const API_V3_KEY_BYTES = 32;

/**
 * key = the APIv3 key's bytes, IV = the nonce's bytes, AAD = associated_data's bytes; the last 16
 * bytes of the base64-decoded ciphertext are the GCM tag. Returns undefined when the tag does not
 * authenticate (tampered, wrong key) or the input is malformed.
 */
export function decryptResource(
  apiV3Key: Buffer,
  nonce: string,
  associatedData: string,
  ciphertextB64: string,
): string | undefined {
  if (apiV3Key.length !== API_V3_KEY_BYTES || nonce.length === 0) return undefined;
  const data = Buffer.from(ciphertextB64, 'base64');
  if (data.length <= GCM_TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', apiV3Key, Buffer.from(nonce, 'utf8'), {
      authTagLength: GCM_TAG_BYTES,
    });
    decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const head = decipher.update(data.subarray(0, data.length - GCM_TAG_BYTES));
    return Buffer.concat([head, decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
