// alipay.trade.refund and alipay.trade.fastpay.refund.query (channels.md §2.7, §2.9;
// docs/refunds-and-bills.md). A refund is decided and applied under the trade's row lock, in one
// transaction with its notification row; the notification is sent once that commits. Faults: a
// refund may be applied and then hung up on (createTimeoutRate, the write calls' timeout), and the
// refund query draws the query faults.
import type pg from 'pg';
import type { Logger } from '../../logger.ts';
import { withTransaction } from '../../store/db.ts';
import type { FaultSwitchboard } from '../faults.ts';
import type { NewNotification } from '../notification-store.ts';
import type { Notifier } from '../notifier.ts';
import type { AlipayKey } from './alipay-key.ts';
import type { App } from './apps.ts';
import { refundNotificationBody, type RefundNotice } from './notification.ts';
import { decideRefund, refundTarget, SELLER_BALANCE_NOT_ENOUGH } from './refund-decision.ts';
import { parseRefundQuery, parseRefundRequest, type RefundRequest } from './refund-request.ts';
import {
  applyRefundToTrade,
  findRefund,
  lockTradeForRefund,
  recordRefund,
  type RefundableTrade,
  type RefundRow,
} from './refund-store.ts';
import { findTrade, type PaidTrade, type Queryable } from './store.ts';
import { invalidParameter, queryFault, type ApiOutcome } from './trade-api.ts';
import { formatBeijingTime, formatYuan, newNotifyId } from './wire-format.ts';

export interface RefundApiDeps {
  pool: pg.Pool;
  log: Logger;
  faults: FaultSwitchboard;
  notifier: Notifier;
  alipayKey: () => Promise<AlipayKey>;
  /** out_trade_nos whose refunds fail from now on. */
  refundFailures: ReadonlySet<string>;
}

/** What the refund's transaction leaves to do after the commit. */
interface Applied {
  outcome: ApiOutcome;
  notification?: { row: NewNotification; notifyUrl: string };
}

export function refundApi(deps: RefundApiDeps) {
  const { pool, log, faults, notifier } = deps;

  /** Decides under the lock and applies the decision in the same transaction. */
  async function refundLocked(q: Queryable, app: App, request: RefundRequest, now: Date): Promise<Applied> {
    const target = refundTarget(await lockTradeForRefund(q, app.appId, request), request);
    if (!target.ok) return { outcome: { kind: 'error', error: target.decision.error } };
    const { trade } = target;
    const key = { appId: app.appId, outTradeNo: trade.outTradeNo, outRequestNo: target.outRequestNo };
    const decision = decideRefund(trade, await findRefund(q, key), request.refundAmountFen, deps.refundFailures.has(trade.outTradeNo));
    switch (decision.kind) {
      case 'refused':
        return { outcome: { kind: 'error', error: decision.error } };
      case 'already_refunded':
        return { outcome: refundAnswer(trade, decision.refund, 'N') };
      case 'fail': {
        await recordRefund(q, { ...key, refundAmountFen: request.refundAmountFen, refundReason: request.refundReason, state: 'failed', acceptedAt: now, finishedAt: now });
        log.debug(key, 'sandbox alipay: refund failed as planted');
        return { outcome: { kind: 'error', error: SELLER_BALANCE_NOT_ENOUGH } };
      }
      case 'refund': {
        const refund: RefundRow = { ...key, refundAmountFen: request.refundAmountFen, state: 'succeeded', acceptedAt: now, finishedAt: now };
        await recordRefund(q, { ...refund, refundReason: request.refundReason });
        const paid = paidTradeOf(trade);
        const notice = { outRequestNo: key.outRequestNo, refundedFen: decision.refundedFen, refundedAt: now, closed: decision.closes };
        const notification = paid.notifyUrl === null ? undefined : { row: await refundNotification(paid, notice, now), notifyUrl: paid.notifyUrl };
        await applyRefundToTrade(q, key, { refundedFen: decision.refundedFen, closedAt: decision.closes ? now : null }, notification?.row);
        log.debug({ ...key, refundedFen: decision.refundedFen, closed: decision.closes }, 'sandbox alipay: refunded');
        return { outcome: refundAnswer({ ...trade, refundedFen: decision.refundedFen }, refund, 'Y'), notification };
      }
    }
  }

  async function refundNotification(paid: PaidTrade, notice: RefundNotice, now: Date): Promise<NewNotification> {
    const notifyId = newNotifyId();
    const { privateKey } = await deps.alipayKey();
    return notifier.newNotification(notifyId, await refundNotificationBody(paid, notice, notifyId, privateKey, now), now);
  }

  return {
    async refund(app: App, biz: Record<string, unknown>, now: Date): Promise<ApiOutcome> {
      const parsed = parseRefundRequest(biz);
      if (!parsed.ok) return invalidParameter(parsed.message);
      const applied = await withTransaction(pool, (q) => refundLocked(q, app, parsed.value, now));
      if (applied.notification) notifier.enqueued(applied.notification.row, applied.notification.notifyUrl);
      if (faults.strikes(faults.current.createTimeoutRate)) return { kind: 'hang_up' };
      return applied.outcome;
    },

    /** Found means a succeeded refund: a failed one, or none, answers 10000 without refund_amount (§2.9). */
    async refundQuery(app: App, biz: Record<string, unknown>): Promise<ApiOutcome> {
      const parsed = parseRefundQuery(biz);
      if (!parsed.ok) return invalidParameter(parsed.message);
      const fault = queryFault(faults);
      if (fault) return fault;
      const trade = await findTrade(pool, app.appId, parsed.value);
      const outRequestNo = parsed.value.outRequestNo ?? trade?.outTradeNo ?? parsed.value.outTradeNo;
      const refund = trade?.tradeNo && outRequestNo !== undefined
        ? await findRefund(pool, { appId: app.appId, outTradeNo: trade.outTradeNo, outRequestNo })
        : undefined;
      const echo = { out_trade_no: trade?.outTradeNo ?? parsed.value.outTradeNo, trade_no: trade?.tradeNo ?? parsed.value.tradeNo, out_request_no: outRequestNo };
      if (!trade || refund?.state !== 'succeeded') return { kind: 'success', fields: echo };
      return {
        kind: 'success',
        fields: {
          ...echo,
          total_amount: formatYuan(trade.totalAmountFen),
          refund_amount: formatYuan(refund.refundAmountFen),
          refund_status: 'REFUND_SUCCESS',
          gmt_refund_pay: formatBeijingTime(refund.finishedAt),
        },
      };
    },
  };
}

export type RefundApi = ReturnType<typeof refundApi>;

/** The sync answer of a refund that succeeded now (Y) or before (N); refund_fee is the trade's cumulative refund. */
function refundAnswer(trade: RefundableTrade, refund: RefundRow, fundChange: 'Y' | 'N'): ApiOutcome {
  return {
    kind: 'success',
    fields: {
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      buyer_logon_id: trade.buyerLogonId,
      buyer_user_id: trade.buyerId,
      fund_change: fundChange,
      refund_fee: formatYuan(trade.refundedFen),
      gmt_refund_pay: formatBeijingTime(refund.finishedAt),
      out_request_no: refund.outRequestNo,
    },
  };
}

function paidTradeOf(trade: RefundableTrade): PaidTrade {
  const { tradeNo, buyerId, buyerLogonId, createdAt, paidAt } = trade;
  if (!tradeNo || !buyerId || !buyerLogonId || !createdAt || !paidAt) {
    throw new Error(`refunded trade ${trade.appId}/${trade.outTradeNo} lacks trade_no, buyer or payment times`);
  }
  return { ...trade, tradeNo, buyerId, buyerLogonId, createdAt, paidAt };
}
