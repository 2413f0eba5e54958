// The front consume (txnType 01, txnSubType 01, bizType 000201) posted by the buyer's browser to
// frontTransReq.do, checked against channels.md §3.1 and §3.4 once its signature has verified.
import { requestFingerprintOf, type AcpFields } from './acp-signature.ts';
import {
  COMMON_REQUIRED,
  COMMON_RULES,
  REQ_RESERVED,
  TXN_AMT,
  acpTime,
  acpTimeOf,
  amountRefusal,
  checkFields,
  exactly,
  httpUrl,
  present,
  txnTimeRefusal,
  type MessageRules,
} from './field-rules.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import type { NewTrade } from './store.ts';

const CONSUME: MessageRules = {
  required: [...COMMON_REQUIRED, 'channelType', 'txnAmt', 'currencyCode', 'backUrl'],
  rules: {
    ...COMMON_RULES,
    txnType: exactly('01'),
    txnSubType: exactly('01'),
    bizType: exactly('000201'),
    channelType: exactly('07', '08'),
    txnAmt: TXN_AMT,
    currencyCode: exactly('156'),
    backUrl: httpUrl,
    frontUrl: httpUrl,
    payTimeout: acpTime,
    reqReserved: REQ_RESERVED,
  },
};

/**
 * The trade the consume creates. Its requestFingerprint is the sha256 of the signed fields but
 * certId: a re-post with the same fields reopens the same cashier.
 */
export type ConsumeOrder = Omit<NewTrade, 'createdAt'>;

export type ConsumeParse = { ok: true; order: ConsumeOrder } | { ok: false; refusal: Refusal };

/** `fields` without blanks; the caller has verified their signature. */
export function parseConsume(fields: AcpFields, now: Date): ConsumeParse {
  const malformed = checkFields(fields, CONSUME);
  if (malformed) return { ok: false, refusal: malformed };
  const txnTime = present(fields, 'txnTime');
  const { frontUrl, payTimeout, reqReserved } = fields;
  const amount = Number(present(fields, 'txnAmt'));
  const unacceptable = amountRefusal(amount) ?? txnTimeRefusal(txnTime, now);
  if (unacceptable) return { ok: false, refusal: unacceptable };
  const txnTimeAt = acpTimeOf(txnTime);
  const payTimeoutAt = payTimeout === undefined ? null : acpTimeOf(payTimeout);
  if (payTimeoutAt && payTimeoutAt.getTime() <= txnTimeAt.getTime()) {
    return { ok: false, refusal: refusal('10', 'payTimeout must be later than txnTime') };
  }
  return {
    ok: true,
    order: {
      merId: present(fields, 'merId'),
      orderId: present(fields, 'orderId'),
      txnTime,
      txnAmt: amount,
      currencyCode: present(fields, 'currencyCode'),
      channelType: present(fields, 'channelType'),
      backUrl: present(fields, 'backUrl'),
      frontUrl: frontUrl ?? null,
      payTimeout: payTimeoutAt,
      reqReserved: reqReserved ?? null,
      requestFingerprint: requestFingerprintOf(fields),
    },
  };
}
