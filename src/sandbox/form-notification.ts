// One delivery of a notification that is a URL-encoded form signed in one of its own fields
// (Alipay's `sign`, UnionPay's `signature`): the stored form, built and signed once so every retry
// carries the same bytes. What acknowledges it is the channel's rule.
import type { HttpAnswer } from '../http/request.ts';
import { postNotification, type NotifierOptions, type SendResult } from './notifier.ts';

export interface FormNotificationOptions {
  /** Exactly as the channel sends it: receivers may compare it byte for byte. */
  contentType: string;
  userAgent: string;
  /** The form field holding the base64 signature. */
  signatureField: string;
  /** The channel's acknowledgement rule. */
  judge(answer: HttpAnswer): SendResult;
}

/** A probe is the same form with its signature corrupted, which a correct receiver refuses. */
export function formNotificationSender(o: FormNotificationOptions): NotifierOptions['send'] {
  return (note, { probe, timeoutMs }) =>
    postNotification(
      note.notifyUrl,
      {
        headers: { 'Content-Type': o.contentType, 'User-Agent': o.userAgent },
        body: probe ? withCorruptedSignature(note.body, o.signatureField) : note.body,
        timeoutMs,
      },
      o.judge,
    );
}

function withCorruptedSignature(body: string, field: string): string {
  const form = new URLSearchParams(body);
  const signature = Buffer.from(form.get(field) ?? '', 'base64');
  if (signature.length === 0) throw new Error(`a stored notification has no ${field} to corrupt`);
  // One flipped bit: the same length and still below the modulus, so only the signature check
  // itself can tell, and it always refuses.
  signature[signature.length - 1]! ^= 0x01;
  form.set(field, signature.toString('base64'));
  return form.toString();
}
