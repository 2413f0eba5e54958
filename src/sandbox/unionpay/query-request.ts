// The query (txnType 00, txnSubType 00) posted to queryTrans.do (channels.md §3.4): it names the
// original transaction by its orderId and txnTime.
import type { AcpFields } from './acp-signature.ts';
import { COMMON_REQUIRED, COMMON_RULES, checkFields, exactly, present, type MessageRules } from './field-rules.ts';
import type { Refusal } from './resp-codes.ts';

const QUERY: MessageRules = {
  required: COMMON_REQUIRED,
  rules: {
    ...COMMON_RULES,
    txnType: exactly('00'),
    txnSubType: exactly('00'),
    // 000201 is the product; some official demos query with 000000, which the gateway takes too.
    bizType: exactly('000201', '000000'),
  },
};

export interface TransactionQuery {
  merId: string;
  orderId: string;
  /** The original transaction's txnTime, not the time of the query. */
  txnTime: string;
}

export type QueryParse = { ok: true; query: TransactionQuery } | { ok: false; refusal: Refusal };

/** `fields` without blanks; the caller has verified their signature. */
export function parseQuery(fields: AcpFields): QueryParse {
  const malformed = checkFields(fields, QUERY);
  if (malformed) return { ok: false, refusal: malformed };
  return {
    ok: true,
    query: { merId: present(fields, 'merId'), orderId: present(fields, 'orderId'), txnTime: present(fields, 'txnTime') },
  };
}
