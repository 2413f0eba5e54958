// One signed back-end call to UnionPay (channels.md §3.1): sign the fields, POST them URL-encoded,
// and turn what came back into a QueryFact — parsed with the nesting-aware reader and verified.
// Meaning is given in classify.ts.
import type { KeyObject } from 'node:crypto';
import { sendRequest } from '../../http/request.ts';
import type { CertificateChecker } from './certificates.ts';
import type { QueryFact } from './classify.ts';
import { signedFields } from './sign.ts';
import { verifyMessage } from './verify.ts';
import { encodeForm, parseResponseFields } from './wire.ts';

/** A query or refund answer is a few KiB (its certificate included); anything far larger is not one. */
export const MAX_RESPONSE_BYTES = 256 * 1024;

export interface CallContext {
  privateKey: KeyObject;
  checker: CertificateChecker;
  timeoutMs: number;
  now: () => Date;
}

export async function callUnionpay(
  ctx: CallContext,
  url: URL,
  unsigned: Iterable<readonly [string, string]>,
  maxResponseBytes = MAX_RESPONSE_BYTES,
): Promise<QueryFact> {
  const fields = await signedFields(ctx.privateKey, unsigned);
  const answer = await sendRequest(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    body: encodeForm(fields),
    timeoutMs: ctx.timeoutMs,
    maxResponseBytes,
  });
  if (answer.kind !== 'answer') return answer;
  const body = answer.bytes.toString('utf8');
  if (answer.status !== 200) return { kind: 'http_status', status: answer.status, body };
  const parsed = parseResponseFields(body);
  if (!parsed || parsed.size === 0) return { kind: 'unparsable', body };
  return { kind: 'answer', fields: parsed, verification: verifyMessage(parsed, ctx.checker, ctx.now().getTime()) };
}
