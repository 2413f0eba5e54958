// The trade methods behind gateway.do (channels.md §2.6, §2.7, §2.11): precreate issues a QR code
// but no trade, query and close see only trades a buyer has opened, and the API faults of the
// shared switchboard apply as they would at a real bank (errors, and timeouts after the effect).
import type { FaultSwitchboard } from '../faults.ts';
import type { App } from './apps.ts';
import type { GatewayError } from './gateway-request.ts';
import {
  closeOpenTrade,
  findTrade,
  insertTradeOrFindExisting,
  statusAt,
  type Queryable,
  type TradeMethod,
  type TradeRow,
} from './store.ts';
import { parseTradeRef, parseTradeRequest, type TradeRequest } from './trade-request.ts';
import { queryFields } from './trade-view.ts';
import { newQrCode } from './wire-format.ts';

export type ApiOutcome =
  /** code 10000 with these fields. */
  | { kind: 'success'; fields: Record<string, unknown> }
  | { kind: 'error'; error: GatewayError }
  /** The "timeout" faults: the socket is destroyed without an answer, whatever was already done. */
  | { kind: 'hang_up' };

export interface TradeApiDeps {
  db: Queryable;
  faults: FaultSwitchboard;
}

type Recorded = { ok: true; trade: TradeRow } | { ok: false; error: GatewayError };

const businessError = (subCode: string, subMsg: string): GatewayError => ({ code: '40004', subCode, subMsg });
const refused = (subCode: string, subMsg: string): Recorded & { ok: false } => ({ ok: false, error: businessError(subCode, subMsg) });
export const business = (subCode: string, subMsg: string): ApiOutcome => ({ kind: 'error', error: businessError(subCode, subMsg) });
export const invalidParameter = (message: string): ApiOutcome => business('ACQ.INVALID_PARAMETER', message);
const tradeNotExist = (): ApiOutcome => business('ACQ.TRADE_NOT_EXIST', '交易不存在');

/**
 * precreate and page.pay: the request is recorded (no trade exists until the buyer opens it), or
 * the row already on record for its out_trade_no is returned when the request is identical.
 */
export async function recordTradeRequest(
  db: Queryable,
  app: App,
  method: TradeMethod,
  params: Record<string, string>,
  biz: Record<string, unknown>,
  now: Date,
): Promise<Recorded> {
  const parsed = parseTradeRequest(method, biz, params.notify_url, now);
  if (!parsed.ok) return refused('ACQ.INVALID_PARAMETER', parsed.message);
  const request = parsed.value;
  if (request.timeExpire.getTime() <= now.getTime()) {
    const existing = await findTrade(db, app.appId, { outTradeNo: request.outTradeNo });
    if (!existing) return refused('ACQ.INVALID_PARAMETER', 'time_expire must be in the future');
    return reorderConflict(existing, request, now) ?? { ok: true, trade: existing };
  }
  const { created, trade } = await insertTradeOrFindExisting(db, {
    appId: app.appId,
    outTradeNo: request.outTradeNo,
    method,
    sellerId: app.sellerId,
    subject: request.subject,
    body: request.body,
    totalAmountFen: request.totalAmountFen,
    notifyUrl: params.notify_url ?? null,
    returnUrl: method === 'alipay.trade.page.pay' ? (params.return_url ?? null) : null,
    timeExpire: request.timeExpire,
    requestFingerprint: request.fingerprint,
    qrCode: method === 'alipay.trade.precreate' ? newQrCode() : null,
    requestedAt: now,
  });
  return (created ? undefined : reorderConflict(trade, request, now)) ?? { ok: true, trade };
}

/** Paid and closed (or expired) win over changed parameters: the merchant learns the trade's fate first. */
function reorderConflict(existing: TradeRow, request: TradeRequest, now: Date): Recorded | undefined {
  if (existing.status === 'TRADE_SUCCESS') return refused('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
  if (existing.status === 'TRADE_CLOSED' || existing.timeExpire.getTime() <= now.getTime()) {
    return refused('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
  }
  if (existing.requestFingerprint !== request.fingerprint) {
    return refused('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改: out_trade_no was used with other parameters');
  }
  return undefined;
}

/** The query faults, drawn for every read-only call (trade, refund and bill queries): an error or a dead socket. */
export function queryFault(faults: FaultSwitchboard): ApiOutcome | undefined {
  if (faults.strikes(faults.current.queryErrorRate)) {
    return { kind: 'error', error: { code: '20000', subCode: 'ACQ.SYSTEM_ERROR', subMsg: '系统错误 (injected fault)' } };
  }
  if (faults.strikes(faults.current.queryTimeoutRate)) return { kind: 'hang_up' };
  return undefined;
}

export function tradeApi(deps: TradeApiDeps) {
  const { db, faults } = deps;
  return {
    async precreate(app: App, params: Record<string, string>, biz: Record<string, unknown>, now: Date): Promise<ApiOutcome> {
      const recorded = await recordTradeRequest(db, app, 'alipay.trade.precreate', params, biz, now);
      if (!recorded.ok) return { kind: 'error', error: recorded.error };
      const { trade } = recorded;
      if (faults.strikes(faults.current.createTimeoutRate)) return { kind: 'hang_up' };
      return { kind: 'success', fields: { out_trade_no: trade.outTradeNo, qr_code: trade.qrCode } };
    },

    async query(app: App, biz: Record<string, unknown>, now: Date): Promise<ApiOutcome> {
      const ref = parseTradeRef(biz);
      if (!ref.ok) return invalidParameter(ref.message);
      const fault = queryFault(faults);
      if (fault) return fault;
      const trade = await findTrade(db, app.appId, ref.value);
      const status = trade && statusAt(trade, now);
      if (!trade || !status) return tradeNotExist();
      return { kind: 'success', fields: queryFields(trade, status) };
    },

    async close(app: App, biz: Record<string, unknown>, now: Date): Promise<ApiOutcome> {
      const ref = parseTradeRef(biz);
      if (!ref.ok) return invalidParameter(ref.message);
      if (faults.strikes(faults.current.closeErrorRate)) return business('ACQ.SYSTEM_ERROR', '系统错误 (injected fault)');
      const closed = await closeOpenTrade(db, app.appId, ref.value, now);
      if (closed) return { kind: 'success', fields: { trade_no: closed.tradeNo, out_trade_no: closed.outTradeNo } };
      const trade = await findTrade(db, app.appId, ref.value);
      const status = trade && statusAt(trade, now);
      if (!trade || !status) return tradeNotExist();
      switch (status) {
        case 'TRADE_SUCCESS':
          return business('ACQ.TRADE_HAS_SUCCESS', '交易已被支付, 不能关闭');
        case 'TRADE_CLOSED':
          return business('ACQ.TRADE_STATUS_ERROR', '交易状态不合法: the trade is already closed');
        case 'WAIT_BUYER_PAY':
          throw new Error(`trade ${app.appId}/${trade.outTradeNo} is WAIT_BUYER_PAY yet closing it changed nothing`);
      }
    },
  };
}

export type TradeApi = ReturnType<typeof tradeApi>;
