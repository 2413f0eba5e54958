// The Transaction object (channels.md §1.4, §1.6): the query answer and, encrypted, the payment
// notification's resource. One builder so both always agree.
import { formatBeijingTime } from './wire-format.ts';
import type { TradeRow, TradeState } from './store.ts';

const TRADE_STATE_DESC: Record<TradeState, string> = {
  SUCCESS: '支付成功',
  NOTPAY: '订单未支付',
  CLOSED: '订单已关闭',
};

export function toTransaction(trade: TradeRow): Record<string, unknown> {
  const common = {
    appid: trade.appId,
    mchid: trade.mchId,
    out_trade_no: trade.outTradeNo,
    trade_type: 'NATIVE',
    trade_state: trade.state,
    trade_state_desc: TRADE_STATE_DESC[trade.state],
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
