// WeChat Pay's side of the control API: the buyer paying a trade, and the ledger view of trades.
import type { Logger } from '../../logger.ts';
import type { LedgerTrade, PayResult, SandboxChannel } from '../channel.ts';
import type { FaultSwitchboard } from '../faults.ts';
import type { MerchantDirectory } from './merchants.ts';
import { buildPaymentNotification } from './notification-envelope.ts';
import type { Notifier } from './notifier.ts';
import {
  findTrade,
  findTradesByOutTradeNo,
  listLedger,
  markTradePaidAndEnqueueNotification,
  type LedgerRow,
  type Queryable,
  type TradeRow,
} from './store.ts';
import { newPayerOpenid, newTransactionId } from './wire-format.ts';

export interface WechatpayControlDeps {
  db: Queryable;
  log: Logger;
  merchants: MerchantDirectory;
  notifier: Notifier;
  faults: FaultSwitchboard;
}

export function createWechatpayControl(deps: WechatpayControlDeps): SandboxChannel {
  const { db, log, merchants, notifier, faults } = deps;
  return {
    name: 'wechatpay',

    async pay(outTradeNo, mchId): Promise<PayResult> {
      const trades = await findTradesByOutTradeNo(db, outTradeNo, mchId);
      const [trade] = trades;
      if (!trade) return { outcome: 'not_found' };
      if (trades.length > 1) return { outcome: 'ambiguous', mchIds: trades.map((t) => t.mchId) };
      const now = new Date();
      const refusal = payRefusal(trade, now);
      if (refusal) return refusal;
      const merchant = await merchants.get(trade.mchId);
      if (!merchant) throw new Error(`trade ${trade.mchId}/${outTradeNo} belongs to a merchant that is not registered`);

      const transactionId = newTransactionId(now);
      const payerOpenid = newPayerOpenid();
      const paid: TradeRow = { ...trade, state: 'SUCCESS', transactionId, payerOpenid, paidAt: now };
      const notification = buildPaymentNotification(paid, merchant.apiV3Key, now);
      const fault = faults.current;
      const dropped = fault.dropNotifications || faults.strikes(fault.dropNotificationRate);
      const jitterMs = fault.notificationJitterMs > 0 ? Math.floor(Math.random() * fault.notificationJitterMs) : 0;
      const firstAttemptMs = now.getTime() + fault.delayNotificationsMs + jitterMs;
      const leaseUntilMs = firstAttemptMs + notifier.leaseGraceMs;
      const recorded = await markTradePaidAndEnqueueNotification(
        db,
        { mchId: trade.mchId, outTradeNo, transactionId, payerOpenid, paidAt: now },
        {
          id: notification.id,
          body: notification.body,
          state: dropped ? 'dropped' : 'pending',
          nextAttemptAt: new Date(firstAttemptMs),
          leaseOwner: dropped ? null : notifier.owner,
          leaseUntil: dropped ? null : new Date(leaseUntilMs),
        },
      );
      if (!recorded) {
        // Paid, closed or expired between our read and our update: report the state that won.
        const current = await findTrade(db, trade.mchId, outTradeNo);
        const lost = current && payRefusal(current, now);
        if (!lost) throw new Error(`trade ${trade.mchId}/${outTradeNo} was payable yet the payment did not apply`);
        return lost;
      }
      if (!dropped) {
        notifier.schedule(
          { id: notification.id, notifyUrl: trade.notifyUrl, body: notification.body, attempts: 0, leaseUntilMs },
          firstAttemptMs,
        );
      }
      log.debug({ mchId: trade.mchId, outTradeNo, notificationId: notification.id, dropped }, 'sandbox wechatpay: trade paid');
      return {
        outcome: 'paid',
        trade: toLedgerTrade({
          ...paid,
          notificationsSent: 0,
          notificationsAcknowledged: 0,
          notificationsDropped: dropped ? 1 : 0,
        }),
      };
    },

    async ledger(filter): Promise<LedgerTrade[]> {
      return (await listLedger(db, filter)).map(toLedgerTrade);
    },
  };
}

function payRefusal(trade: TradeRow, now: Date): PayResult | undefined {
  const id = `${trade.mchId}/${trade.outTradeNo}`;
  if (trade.state === 'SUCCESS') return { outcome: 'refused', code: 'trade_paid', message: `trade ${id} is already paid` };
  if (trade.state === 'CLOSED') return { outcome: 'refused', code: 'trade_closed', message: `trade ${id} is closed` };
  if (trade.timeExpire && trade.timeExpire.getTime() <= now.getTime()) {
    return { outcome: 'refused', code: 'trade_expired', message: `trade ${id} expired at ${trade.timeExpire.toISOString()}` };
  }
  return undefined;
}

const NORMALIZED_STATE = { SUCCESS: 'paid', NOTPAY: 'not_paid', CLOSED: 'closed' } as const;

function toLedgerTrade(row: LedgerRow): LedgerTrade {
  return {
    channel: 'wechatpay',
    mchId: row.mchId,
    outTradeNo: row.outTradeNo,
    transactionId: row.transactionId,
    state: NORMALIZED_STATE[row.state],
    channelState: row.state,
    amount: row.amountTotal,
    currency: row.currency,
    createdAt: row.createdAt.toISOString(),
    paidAt: row.paidAt?.toISOString() ?? null,
    closedAt: row.closedAt?.toISOString() ?? null,
    timeExpire: row.timeExpire?.toISOString() ?? null,
    notificationsSent: row.notificationsSent,
    notificationsAcknowledged: row.notificationsAcknowledged,
    notificationsDropped: row.notificationsDropped,
  };
}
