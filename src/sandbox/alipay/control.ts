// Alipay's side of the control API: the buyer paying a trade (scanning it first if nobody had),
// and the ledger views of trades and refunds. mchId in the control API is the Alipay app_id.
import { toLedgerTrade, type LedgerTrade, type PayResult, type SandboxChannel } from '../channel.ts';
import { listLedgerRefunds } from '../refund-ledger.ts';
import { findTradeForBuyer, type Buyer } from './buyer.ts';
import { ALIPAY_SCHEMA, listLedger, statusAt, type Queryable, type TradeRow } from './store.ts';

const NORMALIZED_STATE = { TRADE_SUCCESS: 'paid', WAIT_BUYER_PAY: 'not_paid', TRADE_CLOSED: 'closed' } as const;

export function createAlipayControl(deps: { db: Queryable; buyer: Buyer }): SandboxChannel {
  const { db, buyer } = deps;
  return {
    name: 'alipay',

    async pay(outTradeNo, mchId): Promise<PayResult> {
      const found = await findTradeForBuyer(db, outTradeNo, mchId);
      if (found.outcome !== 'found') return found;
      const now = new Date();
      const paid = await buyer.pay(found.trade, now);
      if (paid.outcome === 'refused') return paid;
      return { outcome: 'paid', trade: ledgerTradeOf(paid.trade, now, { dropped: paid.notificationDropped }) };
    },

    async ledger(filter): Promise<LedgerTrade[]> {
      return (await listLedger(db, filter)).map((row) => toLedgerTrade('alipay', NORMALIZED_STATE, row));
    },

    refunds: (filter) => listLedgerRefunds(db, ALIPAY_SCHEMA, filter),
  };
}

/** A trade just opened or paid here, as the ledger lists it; only a notification enqueued this moment can count. */
export function ledgerTradeOf(trade: TradeRow, now: Date, notification: { dropped: boolean }): LedgerTrade {
  const status = statusAt(trade, now);
  const { tradeNo, createdAt } = trade;
  if (!status || !tradeNo || !createdAt) throw new Error(`trade ${trade.appId}/${trade.outTradeNo} is not open, so not in the ledger`);
  return toLedgerTrade('alipay', NORMALIZED_STATE, {
    mchId: trade.appId,
    outTradeNo: trade.outTradeNo,
    transactionId: tradeNo,
    channelState: status,
    amount: trade.totalAmountFen,
    currency: 'CNY',
    createdAt,
    paidAt: trade.paidAt,
    closedAt: trade.closedAt,
    timeExpire: trade.timeExpire,
    notificationsSent: 0,
    notificationsAcknowledged: 0,
    notificationsDropped: notification.dropped ? 1 : 0,
  });
}
