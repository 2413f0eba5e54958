// The one place that gives meaning to what came back from an Alipay call (channels.md §2.6):
// transport facts → a category → what that category means for each operation. The same
// `sub_code` means different things to different calls (ACQ.TRADE_HAS_SUCCESS is "the trade
// exists, query it" to a create and "paid" to a close), so each operation has its own exhaustive
// table. Anything unrecognised is unknown (G6). Pure: no I/O, so every table is unit-tested.
import type { ResponseVerification } from './verify-response.ts';

/** What the transport observed, before any meaning is given to it. */
export type TransportFact =
  | {
      kind: 'answer';
      status: number;
      /** Raw body text exactly as received. */
      body: string;
      /** Alipay's trace_id response header, '' when absent. */
      traceId: string;
      /** Signature check of this answer; an unverified answer is never trusted. */
      verification: ResponseVerification;
    }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'network_error'; detail: string };

/** Every kind of answer we distinguish. Adding one forces a decision in each operation's switch. */
export type AnswerCategory =
  /** code 10000. */
  | 'ok'
  | 'timeout'
  | 'network_error'
  /** Any HTTP status but 200: Alipay answers every call, success or failure, with 200. */
  | 'http_error'
  /** Not JSON, error_response, no or repeated node, unsigned or badly signed: possibly forged. */
  | 'unverified'
  /** code 20000 (isp.unknow-error, aop.unknow-error): retry later. */
  | 'service_unavailable'
  /** sub_code ACQ.SYSTEM_ERROR with any code: retry with identical parameters. */
  | 'system_error'
  /** code 20001, 40001, 40002, 40006: the gateway refused the call before any business logic ran. */
  | 'request_refused'
  | 'trade_not_exist'
  | 'trade_has_success'
  | 'trade_has_close'
  /** The same out_trade_no was sent before with other parameters: that trade exists. */
  | 'context_inconsistent'
  /** The trade is not in a state this call accepts (e.g. closing one that is not WAIT_BUYER_PAY). */
  | 'trade_status_error'
  | 'invalid_parameter'
  /** A refund refused for good: exceeds the refundable amount, balance short, trade not refundable. */
  | 'refund_refused'
  /** isp.bill_not_exist: no bill for that day because it had no transactions. */
  | 'bill_not_exist'
  /** code 40004 with another sub_code. */
  | 'other_business_error'
  /** A code Alipay does not document (or none). */
  | 'unexpected_code';

export interface Classified {
  category: AnswerCategory;
  /** The verified response node; only for a verified answer. */
  node?: Record<string, unknown>;
  /** Alipay's sub_code, else its code, else `HTTP_<status>` or the transport failure. */
  code: string;
  /** Alipay's sub_msg, else its msg; '' when there is none. */
  message: string;
  /** One line for the timeline: category, status, trace id and the first bytes of the raw answer. */
  reason: string;
}

/** How much of a raw answer is kept in `reason`. */
export const REASON_BODY_CHARS = 256;

const SUB_CODES: Readonly<Record<string, AnswerCategory>> = {
  'ACQ.TRADE_NOT_EXIST': 'trade_not_exist',
  'ACQ.TRADE_HAS_SUCCESS': 'trade_has_success',
  'ACQ.TRADE_HAS_CLOSE': 'trade_has_close',
  'ACQ.CONTEXT_INCONSISTENT': 'context_inconsistent',
  'ACQ.TRADE_STATUS_ERROR': 'trade_status_error',
  'ACQ.INVALID_PARAMETER': 'invalid_parameter',
  'ACQ.REASON_TRADE_REFUND_FEE_ERR': 'refund_refused',
  'ACQ.SELLER_BALANCE_NOT_ENOUGH': 'refund_refused',
  'ACQ.TRADE_NOT_ALLOW_REFUND': 'refund_refused',
  'ACQ.TRADE_HAS_FINISHED': 'refund_refused',
  'isp.bill_not_exist': 'bill_not_exist',
};

const REFUSED_CODES = new Set(['20001', '40001', '40002', '40006']);

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function categorize(fact: TransportFact): AnswerCategory {
  if (fact.kind === 'timeout') return 'timeout';
  if (fact.kind === 'network_error') return 'network_error';
  if (fact.status !== 200) return 'http_error';
  if (!fact.verification.ok) return 'unverified';
  const code = text(fact.verification.node.code);
  const subCode = text(fact.verification.node.sub_code);
  if (code === '10000') return 'ok';
  if (subCode === 'ACQ.SYSTEM_ERROR') return 'system_error';
  if (code === '20000') return 'service_unavailable';
  if (REFUSED_CODES.has(code)) return 'request_refused';
  if (code !== '40004') return 'unexpected_code';
  return Object.hasOwn(SUB_CODES, subCode) ? SUB_CODES[subCode]! : 'other_business_error';
}

export function classify(fact: TransportFact): Classified {
  const category = categorize(fact);
  const reason = describe(category, fact);
  if (fact.kind !== 'answer') return { category, code: fact.kind, message: '', reason };
  if (!fact.verification.ok) return { category, code: `HTTP_${fact.status}`, message: '', reason };
  const { node } = fact.verification;
  return {
    category,
    node,
    code: text(node.sub_code) || text(node.code) || `HTTP_${fact.status}`,
    message: text(node.sub_msg) || text(node.msg),
    reason,
  };
}

export function describe(category: AnswerCategory, fact: TransportFact): string {
  switch (fact.kind) {
    case 'timeout':
      return `alipay ${category}: no answer within ${fact.timeoutMs} ms`;
    case 'network_error':
      return `alipay ${category}: ${fact.detail}`;
    case 'answer': {
      const signature = fact.verification.ok ? '' : ` signature=${fact.verification.reason}`;
      const body = fact.body.slice(0, REASON_BODY_CHARS).replace(/\s+/g, ' ');
      return `alipay ${category}: status=${fact.status}${signature} trace_id=${fact.traceId || '-'} body=${body}`;
    }
    default: {
      const unreachable: never = fact;
      throw new Error(`unhandled transport fact ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Categories that say nothing about the trade: no answer, an answer that cannot be trusted, or
 * Alipay asking to be called again. Every operation reads them as `unknown` before its own table.
 */
const DOUBTS = ['timeout', 'network_error', 'http_error', 'unverified', 'service_unavailable', 'system_error'] as const;
type Doubt = (typeof DOUBTS)[number];

/** What one operation makes of each category that is not a doubt; the type forces every one in. */
type DecisionTable<D extends string> = Readonly<Record<Exclude<AnswerCategory, Doubt>, D>>;

function decide<D extends string>(table: DecisionTable<D>, category: AnswerCategory): D | 'unknown' {
  return (DOUBTS as readonly AnswerCategory[]).includes(category) ? 'unknown' : table[category as Exclude<AnswerCategory, Doubt>];
}

type CreateDecision = 'success' | 'rejected' | 'unknown';

const CREATE: DecisionTable<CreateDecision> = {
  ok: 'success',
  // Alipay looked at the call and refused it; no QR code was issued, so nothing can be paid.
  trade_has_close: 'rejected',
  invalid_parameter: 'rejected',
  request_refused: 'rejected',
  // A trade with this out_trade_no exists (it may even be paid): only a query can say what it is.
  trade_has_success: 'unknown',
  context_inconsistent: 'unknown',
  // Not documented as answers to a create: nothing is inferred from them.
  trade_not_exist: 'unknown',
  trade_status_error: 'unknown',
  refund_refused: 'unknown',
  bill_not_exist: 'unknown',
  other_business_error: 'unknown',
  unexpected_code: 'unknown',
};

/** precreate: a QR code, a final refusal, or "the trade may exist: query it". */
export function createDecision(category: AnswerCategory): CreateDecision {
  return decide(CREATE, category);
}

type QueryDecision = 'success' | 'not_exist' | 'unknown';

const QUERY: DecisionTable<QueryDecision> = {
  ok: 'success',
  trade_not_exist: 'not_exist',
  trade_has_success: 'unknown',
  trade_has_close: 'unknown',
  context_inconsistent: 'unknown',
  trade_status_error: 'unknown',
  invalid_parameter: 'unknown',
  request_refused: 'unknown',
  refund_refused: 'unknown',
  bill_not_exist: 'unknown',
  other_business_error: 'unknown',
  unexpected_code: 'unknown',
};

/** query: the trade, "does not exist (yet)", or ask again. A query never fails a trade. */
export function queryDecision(category: AnswerCategory): QueryDecision {
  return decide(QUERY, category);
}

export type CloseDecision =
  | 'closed'
  /** Not scanned yet, so nothing to close; it stays scannable until its time_expire. */
  | 'not_exist'
  | 'paid'
  /** The trade is past WAIT_BUYER_PAY (paid, or already closed): a query says which. */
  | 'query'
  | 'unknown';

const CLOSE: DecisionTable<CloseDecision> = {
  ok: 'closed',
  trade_not_exist: 'not_exist',
  trade_has_success: 'paid',
  trade_status_error: 'query',
  trade_has_close: 'unknown',
  context_inconsistent: 'unknown',
  invalid_parameter: 'unknown',
  request_refused: 'unknown',
  refund_refused: 'unknown',
  bill_not_exist: 'unknown',
  other_business_error: 'unknown',
  unexpected_code: 'unknown',
};

export function closeDecision(category: AnswerCategory): CloseDecision {
  return decide(CLOSE, category);
}

export type RefundDecision = 'accepted' | 'failed' | 'unknown';

const REFUND: DecisionTable<RefundDecision> = {
  ok: 'accepted',
  // Alipay looked at the refund and refused it: no money moved, and the same request never will.
  refund_refused: 'failed',
  trade_not_exist: 'failed',
  trade_status_error: 'failed',
  trade_has_close: 'failed',
  invalid_parameter: 'failed',
  request_refused: 'failed',
  // Not documented as answers to a refund: nothing is inferred from them, the query decides.
  trade_has_success: 'unknown',
  context_inconsistent: 'unknown',
  bill_not_exist: 'unknown',
  other_business_error: 'unknown',
  unexpected_code: 'unknown',
};

/** alipay.trade.refund: accepted (fund_change says whether the money moved), a final refusal, or ask again. */
export function refundDecision(category: AnswerCategory): RefundDecision {
  return decide(REFUND, category);
}

export type RefundQueryDecision = 'answer' | 'not_exist' | 'unknown';

const REFUND_QUERY: DecisionTable<RefundQueryDecision> = {
  ok: 'answer',
  // No such trade, so no refund of it either.
  trade_not_exist: 'not_exist',
  trade_has_success: 'unknown',
  trade_has_close: 'unknown',
  context_inconsistent: 'unknown',
  trade_status_error: 'unknown',
  invalid_parameter: 'unknown',
  request_refused: 'unknown',
  refund_refused: 'unknown',
  bill_not_exist: 'unknown',
  other_business_error: 'unknown',
  unexpected_code: 'unknown',
};

/** alipay.trade.fastpay.refund.query: the answer (which may say "no such refund"), or ask again. */
export function refundQueryDecision(category: AnswerCategory): RefundQueryDecision {
  return decide(REFUND_QUERY, category);
}

export type BillDecision = 'url' | 'empty' | 'unknown';

const BILL: DecisionTable<BillDecision> = {
  ok: 'url',
  bill_not_exist: 'empty',
  trade_not_exist: 'unknown',
  trade_has_success: 'unknown',
  trade_has_close: 'unknown',
  context_inconsistent: 'unknown',
  trade_status_error: 'unknown',
  invalid_parameter: 'unknown',
  request_refused: 'unknown',
  refund_refused: 'unknown',
  other_business_error: 'unknown',
  unexpected_code: 'unknown',
};

/** bill.downloadurl.query: a download URL, "no transactions that day" (an empty bill), or ask again. */
export function billDecision(category: AnswerCategory): BillDecision {
  return decide(BILL, category);
}
