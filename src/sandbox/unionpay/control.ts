// UnionPay's side of the control API: /sandbox/pay names a trade by its orderId (the
// out_trade_no) and optionally its merId; /sandbox/ledger and /sandbox/refunds list the ledger and
// refunds views' rows.
import { lookUpTrade, type LedgerTrade, type PayResult, type SandboxChannel } from '../channel.ts';
import { listLedgerRefunds } from '../refund-ledger.ts';
import { UNIONPAY_SCHEMA } from './migration.ts';
import { payTrade, type PaymentDeps } from './payment.ts';
import { findTradesByOrderId, listLedger, type LedgerRow } from './store.ts';

/** The channel's own word for each normalized state: the origRespCode a query answers (messages.ts). */
const ORIG_RESP_CODE = { paid: '00', not_paid: '05', closed: '01' } as const;

export function createUnionpayControl(deps: PaymentDeps): SandboxChannel {
  const { db } = deps;
  return {
    name: 'unionpay',

    async pay(outTradeNo, mchId): Promise<PayResult> {
      const found = lookUpTrade(await findTradesByOrderId(db, outTradeNo, mchId), (t) => t.merId);
      if (found.outcome !== 'found') return found;
      const { trade } = found;
      const result = await payTrade(deps, trade, new Date());
      if (result.outcome === 'refused') return result;
      // Read back through the ledger view, so the answer is the same row /sandbox/ledger shows.
      const [row] = await listLedger(db, { outTradeNo, merId: trade.merId, limit: 1 });
      if (!row) throw new Error(`trade ${trade.merId}/${outTradeNo} was just paid yet is not in the ledger`);
      return { outcome: 'paid', trade: toLedgerTrade(row) };
    },

    async ledger(filter): Promise<LedgerTrade[]> {
      return (await listLedger(db, filter)).map(toLedgerTrade);
    },

    refunds: (filter) => listLedgerRefunds(db, UNIONPAY_SCHEMA, filter),
  };
}

function toLedgerTrade(row: LedgerRow): LedgerTrade {
  return {
    channel: 'unionpay',
    mchId: row.mchId,
    outTradeNo: row.outTradeNo,
    transactionId: row.transactionId,
    state: row.state,
    channelState: ORIG_RESP_CODE[row.state],
    amount: row.amount,
    currency: row.currency,
    createdAt: row.createdAt.toISOString(),
    paidAt: row.paidAt?.toISOString() ?? null,
    // There is no close: an unpaid trade is closed by its payTimeout passing.
    closedAt: row.state === 'closed' ? (row.payTimeout?.toISOString() ?? null) : null,
    timeExpire: row.payTimeout?.toISOString() ?? null,
    notificationsSent: row.notificationsSent,
    notificationsAcknowledged: row.notificationsAcknowledged,
    notificationsDropped: row.notificationsDropped,
  };
}
