// The Transaction object (channels.md §1.4, §1.6): the query answer and, encrypted, the payment
// notification's resource. One builder so both always agree.
import { formatBeijingTime } from './wire-format.ts';
import type { TradeRow, TradeState } from './store.ts';

/** The ledger's states, and REFUND: a paid trade with a refund under way or done (§1.6, still paid). */
type WireTradeState = TradeState | 'REFUND';

const TRADE_STATE_DESC: Record<WireTradeState, string> = {
  SUCCESS: '支付成功',
  REFUND: '转入退款',
  NOTPAY: '订单未支付',
  CLOSED: '订单已关闭',
};

/** `refunding`: the paid trade has a refund that is not closed, so it reads REFUND. */
export function toTransaction(trade: TradeRow, refunding = false): Record<string, unknown> {
  const state: WireTradeState = refunding ? 'REFUND' : trade.state;
  const common = {
    appid: trade.appId,
    mchid: trade.mchId,
    out_trade_no: trade.outTradeNo,
    trade_type: 'NATIVE',
    trade_state: state,
    trade_state_desc: TRADE_STATE_DESC[state],
    attach: trade.attach ?? '',
  };
  if (trade.state !== 'SUCCESS') {
    return { ...common, amount: { total: trade.amountTotal, currency: trade.currency, payer_currency: trade.currency } };
  }
  const { paidAt, transactionId, payerOpenid } = trade;
  if (!paidAt || !transactionId || !payerOpenid) {
    throw new Error(`paid trade ${trade.mchId}/${trade.outTradeNo} lacks paid_at, transaction_id or payer_openid`);
  }
  return {
    ...common,
    transaction_id: transactionId,
    bank_type: 'OTHERS',
    success_time: formatBeijingTime(paidAt),
    payer: { openid: payerOpenid },
    // No coupons in the sandbox: the payer pays the whole total.
    amount: { total: trade.amountTotal, payer_total: trade.amountTotal, currency: trade.currency, payer_currency: trade.currency },
  };
}
