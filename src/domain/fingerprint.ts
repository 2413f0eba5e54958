// The content fingerprint behind duplicate-submission protection: the same purchase submitted
// twice hashes the same, whatever merchantOrderNo the client minted for each try.
import { createHash } from 'node:crypto';

export interface OrderContent {
  customerId?: string | undefined;
  amount: number;
  currency: string;
  subject: string;
  description?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export function orderFingerprint(appId: string, content: OrderContent): string {
  return sha256(
    canonicalJson([
      appId,
      content.customerId ?? null,
      content.amount,
      content.currency,
      content.subject,
      content.description ?? null,
      content.metadata ?? null,
    ]),
  );
}

/** JSON with object keys sorted, so equal values always serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
