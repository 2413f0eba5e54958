// The one place that gives meaning to a queryTrans.do answer (channels.md §3.6–§3.7): transport
// fact → category → normalized status. Pure: the whole table is unit-tested. After payTimeout plus
// the grace the answer is final (§3.7): anything but a success then means the trade is closed.
// screenAnswer is the first step of every answer's reading, refunds' and bills' too.
import type { TradeStatus } from '../types.ts';
import type { Fields } from './sign.ts';
import { isSuccessCode, paidStatusOf } from './trade.ts';
import type { VerifyResult } from './verify.ts';

/** What the transport observed, before any meaning is given to it. */
export type QueryFact =
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'network_error'; detail: string }
  /** Any HTTP status but 200: nothing in the body is trusted. */
  | { kind: 'http_status'; status: number; body: string }
  /** A 200 whose body is not a `k=v&…` message. */
  | { kind: 'unparsable'; body: string }
  | { kind: 'answer'; fields: Fields; verification: VerifyResult };

/** Every kind of answer we distinguish. Adding one forces a decision in `outcomeOf`. */
export type QueryCategory =
  /** respCode 00, origRespCode 00/A6. */
  | 'paid'
  /** respCode 00, origRespCode 03/04/05: the payment is still being processed. */
  | 'processing'
  /** respCode 00, any other origRespCode: this payment try failed; the buyer may try again. */
  | 'failed'
  /** respCode 34 (查无此交易): the buyer's browser has not reached UnionPay (yet). */
  | 'not_found'
  /** respCode 03/04/05/06: the query itself timed out, is undetermined, or UnionPay is busy. */
  | 'busy'
  /** respCode 10/11/13: UnionPay found our query message wrong (format, signature, missing field). */
  | 'bad_query'
  /** Any other respCode: the query failed, which says nothing about the trade. */
  | 'query_refused'
  /** No answer, an unsigned one, one naming another merchant or order, or a 00 without the fields it needs. */
  | ScreenFailure;

export type Outcome = 'paid' | 'not_paid' | 'not_found' | 'unknown';

/** Whose trade the answer must be about. */
export interface QueryExpectation {
  merId: string;
  orderId: string;
}

const PROCESSING_CODES = new Set(['03', '04', '05']);
/** Undetermined (03/04/05) or busy (06): the question must be asked again. */
export const BUSY_CODES = new Set(['03', '04', '05', '06']);
const BAD_QUERY_CODES = new Set(['10', '11', '13']);
const REASON_TEXT_CHARS = 256;

/** How an answer can fail before its codes mean anything: it never came, is unsigned, or is not ours. */
export type ScreenFailure = 'wrong_trade' | 'malformed' | 'unverified' | 'unparsable' | 'http_status' | 'timeout' | 'network_error';

export interface ScreenedAnswer {
  respCode: string;
  fields: Fields;
}

/**
 * What every answer (query, refund, file) passes before its respCode is read: it came, its
 * signature checks, each field of `echoes` it carries has our value (a failing answer may not
 * echo them), and it has a respCode.
 */
export function screenAnswer(fact: QueryFact, echoes: Readonly<Record<string, string>>): ScreenedAnswer | ScreenFailure {
  if (fact.kind !== 'answer') return fact.kind;
  if (!fact.verification.ok) return 'unverified';
  const { fields } = fact;
  if (Object.entries(echoes).some(([name, value]) => fields.has(name) && fields.get(name) !== value)) return 'wrong_trade';
  const respCode = fields.get('respCode');
  if (respCode === undefined) return 'malformed';
  return { respCode, fields };
}

/** A success must name the merchant and order it is about, not merely not contradict them. */
export function namesTheOrder(fields: Fields): boolean {
  return fields.has('merId') && fields.has('orderId');
}

export function categorize(fact: QueryFact, expected: QueryExpectation): QueryCategory {
  const screened = screenAnswer(fact, { merId: expected.merId, orderId: expected.orderId });
  if (typeof screened === 'string') return screened;
  const { respCode, fields } = screened;
  if (respCode === '00') {
    if (!namesTheOrder(fields)) return 'wrong_trade';
    const origRespCode = fields.get('origRespCode');
    if (origRespCode === undefined) return 'malformed';
    if (isSuccessCode(origRespCode)) return 'paid';
    return PROCESSING_CODES.has(origRespCode) ? 'processing' : 'failed';
  }
  if (respCode === '34') return 'not_found';
  if (BUSY_CODES.has(respCode)) return 'busy';
  if (BAD_QUERY_CODES.has(respCode)) return 'bad_query';
  return 'query_refused';
}

/** The single exhaustive decision: which categories are facts about the trade, and which are doubts. */
export function outcomeOf(category: QueryCategory): Outcome {
  switch (category) {
    case 'paid':
      return 'paid';
    case 'processing':
    case 'failed':
      return 'not_paid';
    case 'not_found':
      return 'not_found';
    case 'busy':
    case 'bad_query':
    case 'query_refused':
    case 'wrong_trade':
    case 'malformed':
    case 'unverified':
    case 'unparsable':
    case 'http_status':
    case 'timeout':
    case 'network_error':
      return 'unknown';
    default: {
      const unreachable: never = category;
      throw new Error(`unclassified unionpay query category ${String(unreachable)}`);
    }
  }
}

export interface QueryContext extends QueryExpectation {
  /** The query was sent after payTimeout plus the grace: what UnionPay says now is final. */
  final: boolean;
  now: Date;
}

export function tradeStatusFromQuery(fact: QueryFact, ctx: QueryContext): TradeStatus {
  const category = categorize(fact, ctx);
  switch (outcomeOf(category)) {
    case 'paid':
      if (fact.kind !== 'answer') throw new Error(`unionpay query categorized paid without an answer (${fact.kind}, ${ctx.orderId})`);
      return paidStatusOf(fact.fields, ctx.now);
    case 'not_paid':
      return ctx.final ? { kind: 'closed' } : { kind: 'not_paid' };
    case 'not_found':
      return ctx.final ? { kind: 'closed' } : { kind: 'not_found' };
    case 'unknown':
      return { kind: 'unknown', reason: describe(category, fact) };
  }
}

/** One line for the timeline: category and what UnionPay said, never the certificate it sent. */
export function describe(category: string, fact: QueryFact): string {
  const text = (s: string) => s.slice(0, REASON_TEXT_CHARS).replace(/\s+/g, ' ');
  switch (fact.kind) {
    case 'timeout':
      return `unionpay ${category}: no answer within ${fact.timeoutMs} ms`;
    case 'network_error':
      return `unionpay ${category}: ${fact.detail}`;
    case 'http_status':
      return `unionpay ${category}: status=${fact.status} body=${text(fact.body)}`;
    case 'unparsable':
      return `unionpay ${category}: body=${text(fact.body)}`;
    case 'answer': {
      const f = fact.fields;
      const signature = fact.verification.ok ? '' : ` signature=${fact.verification.reason}(${fact.verification.detail})`;
      const codes = `respCode=${f.get('respCode') ?? '-'} origRespCode=${f.get('origRespCode') ?? '-'}`;
      return text(`unionpay ${category}:${signature} ${codes} respMsg=${f.get('respMsg') ?? '-'} origRespMsg=${f.get('origRespMsg') ?? '-'}`);
    }
    default: {
      const unreachable: never = fact;
      throw new Error(`unhandled unionpay query fact ${JSON.stringify(unreachable)}`);
    }
  }
}
