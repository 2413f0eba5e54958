// The refund (退货: txnType 04, txnSubType 00, bizType 000201) posted to backTransReq.do
// (channels.md §3.4, docs/refunds-and-bills.md): a new orderId and txnTime of its own, the consume
// it returns money from named by origQryId.
import { requestFingerprintOf, type AcpFields } from './acp-signature.ts';
import {
  COMMON_REQUIRED,
  COMMON_RULES,
  REQ_RESERVED,
  TXN_AMT,
  amountRefusal,
  checkFields,
  exactly,
  httpUrl,
  matching,
  present,
  type MessageRules,
} from './field-rules.ts';
import type { Refusal } from './resp-codes.ts';

const REFUND: MessageRules = {
  required: [...COMMON_REQUIRED, 'channelType', 'txnAmt', 'currencyCode', 'origQryId', 'backUrl'],
  rules: {
    ...COMMON_RULES,
    txnType: exactly('04'),
    txnSubType: exactly('00'),
    bizType: exactly('000201'),
    channelType: exactly('07', '08'),
    txnAmt: TXN_AMT,
    currencyCode: exactly('156'),
    // A queryId is 21 digits here; any other value names no consume, which is respCode 35, not 10.
    origQryId: matching(/^[0-9A-Za-z]{1,40}$/, '1-40 letters or digits'),
    backUrl: httpUrl,
    reqReserved: REQ_RESERVED,
  },
};

export interface RefundOrder {
  merId: string;
  /** The refund's own orderId and txnTime: together they name it in a query. */
  orderId: string;
  txnTime: string;
  /** Fen. */
  txnAmt: number;
  origQryId: string;
  backUrl: string;
  reqReserved: string | null;
  requestFingerprint: string;
}

export type RefundParse = { ok: true; order: RefundOrder } | { ok: false; refusal: Refusal };

/** `fields` without blanks; the caller has verified their signature. */
export function parseRefund(fields: AcpFields): RefundParse {
  const malformed = checkFields(fields, REFUND);
  if (malformed) return { ok: false, refusal: malformed };
  const txnAmt = Number(present(fields, 'txnAmt'));
  const tooLarge = amountRefusal(txnAmt);
  if (tooLarge) return { ok: false, refusal: tooLarge };
  return {
    ok: true,
    order: {
      merId: present(fields, 'merId'),
      orderId: present(fields, 'orderId'),
      txnTime: present(fields, 'txnTime'),
      txnAmt,
      origQryId: present(fields, 'origQryId'),
      backUrl: present(fields, 'backUrl'),
      reqReserved: fields.reqReserved ?? null,
      requestFingerprint: requestFingerprintOf(fields),
    },
  };
}
