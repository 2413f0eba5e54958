// A trade as Alipay describes it to the merchant (channels.md §2.4, §2.7): the query answer's
// fields, and the amounts the query and the notification share.
import type { TradeRow, TradeStatus } from './store.ts';
import { formatBeijingTime, formatYuan } from './wire-format.ts';

/** No coupons or points in the sandbox: a paid trade's buyer paid, and the seller received, the whole total. */
export function amountFields(totalAmountFen: number, paid: boolean): Record<string, string> {
  const total = formatYuan(totalAmountFen);
  const settled = paid ? total : '0.00';
  return { total_amount: total, receipt_amount: settled, invoice_amount: settled, buyer_pay_amount: settled, point_amount: '0.00' };
}

/** Where a paid trade's money came from: all from the buyer's Alipay balance. */
export function fundBills(totalAmountFen: number): Array<{ amount: string; fund_channel: string }> {
  return [{ amount: formatYuan(totalAmountFen), fund_channel: 'ALIPAYACCOUNT' }];
}

/** The alipay.trade.query answer (besides code and msg) for a trade that exists. */
export function queryFields(trade: TradeRow, status: TradeStatus): Record<string, unknown> {
  const { tradeNo, buyerId, buyerLogonId, paidAt } = trade;
  if (!tradeNo || !buyerId || !buyerLogonId) throw new Error(`trade ${trade.appId}/${trade.outTradeNo} exists yet lacks trade_no or buyer`);
  const paid = status === 'TRADE_SUCCESS';
  if (paid && !paidAt) throw new Error(`paid trade ${trade.appId}/${trade.outTradeNo} lacks paid_at`);
  return {
    trade_no: tradeNo,
    out_trade_no: trade.outTradeNo,
    buyer_logon_id: buyerLogonId,
    buyer_user_id: buyerId,
    trade_status: status,
    ...amountFields(trade.totalAmountFen, paid),
    ...(paid && paidAt ? { send_pay_date: formatBeijingTime(paidAt), fund_bill_list: fundBills(trade.totalAmountFen) } : {}),
  };
}
