// The one place that gives meaning to what came back from a WeChat Pay call (channels.md §1.6):
// transport facts → a category → success / final failure (`rejected`) / unknown-query-again (G6).
// Pure: no I/O, so the whole table is unit-tested.
import type { VerifyResult } from './verify.ts';

/** What the transport observed, before any meaning is given to it. */
export type TransportFact =
  | {
      kind: 'answer';
      status: number;
      /** Raw body text exactly as received. */
      body: string;
      /** WeChat's Request-ID response header, '' when absent. */
      requestId: string;
      /** Signature check of this answer; an unverified answer is never trusted. */
      verification: VerifyResult;
    }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'network_error'; detail: string };

/** The answers that are final: WeChat received the call and refused it (or the trade is settled). */
export type FinalCategory =
  | 'order_not_exist'
  | 'order_paid'
  | 'order_closed'
  | 'out_trade_no_used'
  /** 401 / SIGN_ERROR: WeChat did not accept our signature, so it did nothing. */
  | 'sign_error'
  /** Any other 4xx (PARAM_ERROR, NO_AUTH, NOT_ENOUGH, RULE_LIMIT, TRADE_ERROR, …). */
  | 'business_error';

/** Every kind of answer we distinguish. Adding one forces a decision in `outcomeOf`. */
export type AnswerCategory =
  | 'ok'
  | 'timeout'
  | 'network_error'
  /** Missing, stale or bad signature: possibly forged, even (especially) when it says 2xx. */
  | 'unverified'
  /** 202 / USER_PAYING: accepted, still processing. */
  | 'processing'
  /** 429 / FREQUENCY_LIMITED. */
  | 'rate_limited'
  /** Any 5xx, or SYSTEM_ERROR with any status. */
  | 'system_error'
  /** 1xx, 3xx, a 2xx other than 200/202/204, or a status beyond 599. */
  | 'unexpected_status'
  | FinalCategory;

export type Classified =
  | { outcome: 'success'; status: number; body: string; requestId: string }
  | { outcome: 'rejected'; category: FinalCategory; code: string; message: string; reason: string }
  | { outcome: 'unknown'; category: AnswerCategory; reason: string };

/** How much of a raw answer is kept in `reason` for the timeline. */
export const REASON_BODY_CHARS = 256;

/**
 * Codes are compared with underscores removed and upper-cased, so both spellings seen in WeChat's
 * docs match (SYSTEM_ERROR / SYSTEMERROR, ORDER_NOT_EXIST / ORDERNOTEXIST; channels.md §5 item 3).
 */
export function normalizeCode(code: string): string {
  return code.replace(/_/g, '').toUpperCase();
}

/** "Already paid" as WeChat may spell it; the exact v3 code for closing a paid order is unconfirmed. */
const ALREADY_PAID_CODES = new Set(['ORDERPAID', 'ORDERHASPAID', 'ORDERALREADYPAID', 'ALREADYPAID', 'TRADEPAID']);
const ALREADY_PAID_MESSAGE = /已支付|already paid|has been paid/i;

interface ErrorBody {
  code: string;
  message: string;
}

function readErrorBody(body: string): ErrorBody {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) {
      const { code, message } = parsed as Record<string, unknown>;
      return { code: typeof code === 'string' ? code : '', message: typeof message === 'string' ? message : '' };
    }
  } catch {
    // Not JSON (a proxy's HTML page, a truncated answer): no code.
  }
  return { code: '', message: '' };
}

export function categorize(fact: TransportFact): AnswerCategory {
  if (fact.kind === 'timeout') return 'timeout';
  if (fact.kind === 'network_error') return 'network_error';
  if (!fact.verification.ok) return 'unverified';
  const { status } = fact;
  if (status === 200 || status === 204) return 'ok';
  const { code, message } = readErrorBody(fact.body);
  const c = normalizeCode(code);
  if ((status >= 500 && status <= 599) || c === 'SYSTEMERROR') return 'system_error';
  if (status === 202 || c === 'USERPAYING') return 'processing';
  if (status === 429 || c === 'FREQUENCYLIMITED') return 'rate_limited';
  if (status < 400 || status > 499) return 'unexpected_status';
  // RESOURCE_NOT_EXISTS is the refund API's spelling (docs/refunds-and-bills.md).
  if (status === 404 || c === 'ORDERNOTEXIST' || c === 'RESOURCENOTEXISTS') return 'order_not_exist';
  if (ALREADY_PAID_CODES.has(c) || (c === 'INVALIDREQUEST' && ALREADY_PAID_MESSAGE.test(message))) return 'order_paid';
  if (c === 'ORDERCLOSED') return 'order_closed';
  if (c === 'OUTTRADENOUSED') return 'out_trade_no_used';
  if (status === 401 || c === 'SIGNERROR') return 'sign_error';
  return 'business_error';
}

export type Outcome =
  | { outcome: 'success' }
  | { outcome: 'rejected'; category: FinalCategory }
  | { outcome: 'unknown' };

/** The single exhaustive decision: which categories are success, final, or "query again" (G6). */
export function outcomeOf(category: AnswerCategory): Outcome {
  switch (category) {
    case 'ok':
      return { outcome: 'success' };
    case 'order_not_exist':
    case 'order_paid':
    case 'order_closed':
    case 'out_trade_no_used':
    case 'sign_error':
    case 'business_error':
      return { outcome: 'rejected', category };
    case 'timeout':
    case 'network_error':
    case 'unverified':
    case 'processing':
    case 'rate_limited':
    case 'system_error':
    case 'unexpected_status':
      return { outcome: 'unknown' };
    default: {
      const unreachable: never = category;
      throw new Error(`unclassified wechatpay answer category ${String(unreachable)}`);
    }
  }
}

export function classify(fact: TransportFact): Classified {
  const category = categorize(fact);
  const decision = outcomeOf(category);
  if (fact.kind === 'answer') {
    if (decision.outcome === 'success') {
      return { outcome: 'success', status: fact.status, body: fact.body, requestId: fact.requestId };
    }
    if (decision.outcome === 'rejected') {
      const { code, message } = readErrorBody(fact.body);
      return {
        outcome: 'rejected',
        category: decision.category,
        code: code || `HTTP_${fact.status}`,
        message,
        reason: describe(category, fact),
      };
    }
  }
  return { outcome: 'unknown', category, reason: describe(category, fact) };
}

/** The timeline line of a success whose body turned out unusable (malformed, another trade's). */
export function describeSuccess(answer: Extract<Classified, { outcome: 'success' }>): string {
  return `status=${answer.status} request_id=${answer.requestId || '-'} body=${answer.body.slice(0, REASON_BODY_CHARS)}`;
}

/** One line for the timeline: category, status, Request-ID and the first bytes of the raw answer. */
export function describe(category: AnswerCategory, fact: TransportFact): string {
  switch (fact.kind) {
    case 'timeout':
      return `wechatpay ${category}: no answer within ${fact.timeoutMs} ms`;
    case 'network_error':
      return `wechatpay ${category}: ${fact.detail}`;
    case 'answer': {
      const signature = fact.verification.ok ? '' : ` signature=${fact.verification.reason}`;
      const body = fact.body.slice(0, REASON_BODY_CHARS).replace(/\s+/g, ' ');
      return `wechatpay ${category}: status=${fact.status}${signature} request_id=${fact.requestId || '-'} body=${body}`;
    }
    default: {
      const unreachable: never = fact;
      throw new Error(`unhandled transport fact ${JSON.stringify(unreachable)}`);
    }
  }
}
