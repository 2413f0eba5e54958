// WeChat Pay's side of the control API: the buyer paying a trade, and the ledger views of trades and refunds.
import type { Logger } from '../../logger.ts';
import { lookUpTrade, toLedgerTrade, type LedgerTrade, type PayResult, type SandboxChannel } from '../channel.ts';
import type { Notifier } from '../notifier.ts';
import { listLedgerRefunds } from '../refund-ledger.ts';
import type { MerchantDirectory } from './merchants.ts';
import { buildPaymentNotification } from './notification-envelope.ts';
import {
  findTrade,
  findTradesByOutTradeNo,
  listLedger,
  markTradePaidAndEnqueueNotification,
  WECHATPAY_SCHEMA,
  type Queryable,
  type TradeRow,
} from './store.ts';
import { newPayerOpenid, newTransactionId } from './wire-format.ts';

const NORMALIZED_STATE = { SUCCESS: 'paid', NOTPAY: 'not_paid', CLOSED: 'closed' } as const;

export interface WechatpayControlDeps {
  db: Queryable;
  log: Logger;
  merchants: MerchantDirectory;
  notifier: Notifier;
}

export function createWechatpayControl(deps: WechatpayControlDeps): SandboxChannel {
  const { db, log, merchants, notifier } = deps;
  return {
    name: 'wechatpay',

    async pay(outTradeNo, mchId): Promise<PayResult> {
      const found = lookUpTrade(await findTradesByOutTradeNo(db, outTradeNo, mchId), (t) => t.mchId);
      if (found.outcome !== 'found') return found;
      const { trade } = found;
      const now = new Date();
      const refusal = payRefusal(trade, now);
      if (refusal) return refusal;
      const merchant = await merchants.get(trade.mchId);
      if (!merchant) throw new Error(`trade ${trade.mchId}/${outTradeNo} belongs to a merchant that is not registered`);

      const transactionId = newTransactionId(now);
      const payerOpenid = newPayerOpenid();
      const paid: TradeRow = { ...trade, state: 'SUCCESS', transactionId, payerOpenid, paidAt: now };
      const notification = buildPaymentNotification(paid, merchant.apiV3Key, now);
      const row = notifier.newNotification(notification.id, notification.body, now);
      const recorded = await markTradePaidAndEnqueueNotification(
        db,
        { mchId: trade.mchId, outTradeNo, transactionId, payerOpenid, paidAt: now },
        row,
      );
      if (!recorded) {
        // Paid, closed or expired between our read and our update: report the state that won.
        const current = await findTrade(db, trade.mchId, outTradeNo);
        const lost = current && payRefusal(current, now);
        if (!lost) throw new Error(`trade ${trade.mchId}/${outTradeNo} was payable yet the payment did not apply`);
        return lost;
      }
      notifier.enqueued(row, trade.notifyUrl);
      const dropped = row.state === 'dropped';
      log.debug({ mchId: trade.mchId, outTradeNo, notificationId: notification.id, dropped }, 'sandbox wechatpay: trade paid');
      return {
        outcome: 'paid',
        trade: toLedgerTrade('wechatpay', NORMALIZED_STATE, {
          mchId: paid.mchId,
          outTradeNo,
          transactionId,
          channelState: paid.state,
          amount: paid.amountTotal,
          currency: paid.currency,
          createdAt: paid.createdAt,
          paidAt: now,
          closedAt: paid.closedAt,
          timeExpire: paid.timeExpire,
          notificationsSent: 0,
          notificationsAcknowledged: 0,
          notificationsDropped: dropped ? 1 : 0,
        }),
      };
    },

    async ledger(filter): Promise<LedgerTrade[]> {
      return (await listLedger(db, filter)).map((row) => toLedgerTrade('wechatpay', NORMALIZED_STATE, row));
    },

    refunds: (filter) => listLedgerRefunds(db, WECHATPAY_SCHEMA, filter),
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
