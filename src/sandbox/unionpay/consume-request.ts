// The front consume (txnType 01, txnSubType 01, bizType 000201) posted by the buyer's browser to
// frontTransReq.do, checked against channels.md §3.1 and §3.4 once its signature has verified.
import { createHash } from 'node:crypto';
import { signableString, type AcpFields } from './acp-signature.ts';
import {
  COMMON_REQUIRED,
  COMMON_RULES,
  acpTime,
  acpTimeOf,
  checkFields,
  exactly,
  httpUrl,
  matching,
  present,
  type MessageRules,
} from './field-rules.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import type { NewTrade } from './store.ts';

/** The ledger keeps fen in a 32-bit integer, like the other channels' ledgers; more is respCode 33. */
const TXN_AMT_MAX = 2_147_483_647;
/**
 * txnTime "must be the current Beijing time": the sandbox accepts 15 minutes either way, the
 * payTimeout the brief recommends, so a form older than its recommended life is refused.
 */
const TXN_TIME_SKEW_MS_MAX = 15 * 60_000;

const CONSUME: MessageRules = {
  required: [...COMMON_REQUIRED, 'channelType', 'txnAmt', 'currencyCode', 'backUrl'],
  rules: {
    ...COMMON_RULES,
    txnType: exactly('01'),
    txnSubType: exactly('01'),
    bizType: exactly('000201'),
    channelType: exactly('07', '08'),
    txnAmt: matching(/^[1-9]\d{0,11}$/, 'a positive integer number of fen without leading zeros'),
    currencyCode: exactly('156'),
    backUrl: httpUrl,
    frontUrl: httpUrl,
    payTimeout: acpTime,
    // Synchronous answers are not URL-encoded (§3.1): a bare & or bracket would make an echoed
    // reqReserved unparseable, which is why UnionPay asks for base64. A value's "=" is harmless
    // (the first "=" ends the key), so base64 padding passes.
    reqReserved: matching(/^[^&{}[\]]*$/, 'free of & { } [ ] (base64-encode it)'),
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
  if (amount > TXN_AMT_MAX) return { ok: false, refusal: refusal('33', `txnAmt above ${TXN_AMT_MAX} fen`) };
  const txnTimeAt = acpTimeOf(txnTime);
  if (Math.abs(txnTimeAt.getTime() - now.getTime()) > TXN_TIME_SKEW_MS_MAX) {
    return { ok: false, refusal: refusal('39', `txnTime is more than ${TXN_TIME_SKEW_MS_MAX / 60_000} minutes from the current Beijing time`) };
  }
  const payTimeoutAt = payTimeout === undefined ? null : acpTimeOf(payTimeout);
  if (payTimeoutAt && payTimeoutAt.getTime() <= txnTimeAt.getTime()) {
    return { ok: false, refusal: refusal('10', 'payTimeout must be later than txnTime') };
  }
  const { certId: _certId, ...business } = fields;
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
      requestFingerprint: createHash('sha256').update(signableString(business), 'utf8').digest('hex'),
    },
  };
}
