// What UnionPay says about a refund (退货, txnType 04; channels.md §3.6–§3.7, docs/refunds-and-bills.md):
// the backTransReq.do answer, the queryTrans.do answer about the refund's own orderId + txnTime,
// and the refund's backUrl notice all end here as a RefundStatus. Pure: the tables are unit-tested.
import type { RefundStatus } from '../types.ts';
import {
  BUSY_CODES,
  categorize,
  describe,
  namesTheOrder,
  outcomeOf,
  screenAnswer,
  type QueryExpectation,
  type QueryFact,
  type ScreenFailure,
} from './classify.ts';
import type { Fields } from './sign.ts';
import { paidAtOf, readFen } from './trade.ts';

/** Every kind of answer to a refund request we distinguish. Adding one forces a row in REFUND_ANSWER_OUTCOME. */
export type RefundAnswerCategory =
  /** respCode 00: accepted, the outcome comes by notice or query. */
  | 'accepted'
  /** respCode 03/04/05/06: undetermined or busy; the query decides. */
  | 'busy'
  /** respCode 12 (重复交易): this orderId was used with other fields; whether a refund exists, the query decides. */
  | 'duplicate'
  /** Any other respCode: refused, no money moved (e.g. 35, over the refundable amount or no such consume). */
  | 'refused'
  | ScreenFailure;

const DUPLICATE_CODE = '12';

export function categorizeRefundAnswer(fact: QueryFact, expected: QueryExpectation): RefundAnswerCategory {
  const screened = screenAnswer(fact, { merId: expected.merId, orderId: expected.orderId });
  if (typeof screened === 'string') return screened;
  const { respCode, fields } = screened;
  if (respCode === '00') return namesTheOrder(fields) ? 'accepted' : 'wrong_trade';
  if (BUSY_CODES.has(respCode)) return 'busy';
  if (respCode === DUPLICATE_CODE) return 'duplicate';
  return 'refused';
}

/**
 * The one decision about a backTransReq.do answer: never `succeeded` (UnionPay only accepts here),
 * `failed` only when refused; every doubt goes to the query. A Record, so a new category needs a row.
 */
const REFUND_ANSWER_OUTCOME: Readonly<Record<RefundAnswerCategory, 'processing' | 'failed' | 'unknown'>> = {
  accepted: 'processing',
  refused: 'failed',
  busy: 'unknown',
  duplicate: 'unknown',
  wrong_trade: 'unknown',
  malformed: 'unknown',
  unverified: 'unknown',
  unparsable: 'unknown',
  http_status: 'unknown',
  timeout: 'unknown',
  network_error: 'unknown',
};

export function refundStatusFromRequest(fact: QueryFact, expected: QueryExpectation): RefundStatus {
  const category = categorizeRefundAnswer(fact, expected);
  switch (REFUND_ANSWER_OUTCOME[category]) {
    case 'processing':
      return { kind: 'processing' };
    case 'failed':
      return refundFailedOf(fieldsOf(fact, category), 'respCode');
    case 'unknown':
      return { kind: 'unknown', reason: describe(category, fact) };
  }
}

/** The queryTrans.do answer about the refund, read with the consume query's categories and outcomes. */
export function refundStatusFromQuery(fact: QueryFact, expected: QueryExpectation, now: Date): RefundStatus {
  const category = categorize(fact, expected);
  switch (outcomeOf(category)) {
    case 'paid':
      return refundSucceededOf(fieldsOf(fact, category), now);
    case 'not_paid':
      return category === 'processing' ? { kind: 'processing' } : refundFailedOf(fieldsOf(fact, category), 'origRespCode');
    case 'not_found':
      return { kind: 'not_found' };
    case 'unknown':
      return { kind: 'unknown', reason: describe(category, fact) };
  }
}

/**
 * A successful refund (query answer or notice) as UnionPay states it: txnAmt is the amount,
 * queryId the refund's own number; `unknown` when the amount cannot be read.
 */
export function refundSucceededOf(fields: Fields, now: Date): RefundStatus {
  const amountMinor = readFen(fields.get('txnAmt'));
  if (amountMinor === undefined) return { kind: 'unknown', reason: 'unionpay malformed_answer: refund success without a valid txnAmt' };
  const queryId = fields.get('queryId');
  const succeededAt = paidAtOf(fields.get('txnTime'), fields.get('traceTime')) ?? now;
  return { kind: 'succeeded', amountMinor, ...(queryId !== undefined && { channelRefundNo: queryId }), succeededAt };
}

/** A final failure, coded by the field that said so: `respCode:35`, `origRespCode:01`. */
export function refundFailedOf(fields: Fields, codeField: 'respCode' | 'origRespCode'): RefundStatus {
  const code = fields.get(codeField) ?? '-';
  const message = fields.get(codeField === 'respCode' ? 'respMsg' : 'origRespMsg') ?? `UnionPay ${codeField} ${code}`;
  return { kind: 'failed', code: `${codeField}:${code}`, message };
}

/** Only an answer is categorized as one that says something; anything else here is a bug. */
function fieldsOf(fact: QueryFact, category: string): Fields {
  if (fact.kind !== 'answer') throw new Error(`unionpay refund categorized ${category} without an answer (${fact.kind})`);
  return fact.fields;
}
