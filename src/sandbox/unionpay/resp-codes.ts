// The ACP response codes the sandbox answers with, and their messages from the core table
// (channels.md §3.6). Where the sandbox had to pick among several documented codes, the reason is
// given here, once.
export const RESP_MSG = {
  '00': '成功',
  /** A final failure: the buyer cancelled at the cashier, or the payTimeout passed unpaid. 01 is the
   *  table's generic "transaction failed"; 30 reads as a risk refusal and 39 as a request sent
   *  outside the accepted time, neither of which is what happened. */
  '01': '交易失败',
  '05': '交易已受理，请稍后查询交易结果',
  /** The queryErrorRate fault: the query itself failed for a transient reason and says nothing about
   *  the trade, like WeChat's SYSTEM_ERROR; 03 ("timed out, query") would be circular for a query. */
  '06': '系统繁忙',
  '10': '报文格式错误',
  '11': '验证签名失败',
  '12': '重复交易',
  '13': '报文交易要素缺失',
  /** txnAmt above the 32-bit integer of fen the sandbox ledger keeps. */
  '33': '交易金额超限',
  '34': '查无此交易',
  /** A refund of an unknown or unpaid consume (origQryId), or beyond what is left to refund of it. */
  '35': '原交易不存在或状态不正确',
  /** txnTime further from the bank's clock than the sandbox accepts. */
  '39': '交易不在受理时间范围内',
  /** A settleDate with no transaction of the merchant: no file (docs/refunds-and-bills.md). */
  '98': '文件不存在',
} as const;

export type RespCode = keyof typeof RESP_MSG;

/** What the bank says when it refuses a message: the code, and a detail for the person reading. */
export interface Refusal {
  respCode: Exclude<RespCode, '00' | '05'>;
  detail: string;
}

export function refusal(respCode: Refusal['respCode'], detail: string): Refusal {
  return { respCode, detail };
}
