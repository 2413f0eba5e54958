// The fields of what the bank sends (before signing): the consume notification (§3.5), the front
// return, the query answer (§3.4) and the file answer (§3.8). One place builds the paid trade's
// fields, so the notification and a later query always agree.
import type { AcpFields } from './acp-signature.ts';
import type { BillFile } from './bill-file.ts';
import type { FileRequest } from './file-request.ts';
import type { TransactionQuery } from './query-request.ts';
import { RESP_MSG, type Refusal, type RespCode } from './resp-codes.ts';
import type { Settlement, TradeRow } from './store.ts';

const VERSION = '5.1.0';
const ENCODING = 'UTF-8';
/**
 * The sandbox's buyer always pays with a debit card: payType 0001 and payCardType 01 are the
 * values UnionPay's demos show for that. Informative only; Paycenter must not depend on them.
 */
const PAY_TYPE = '0001';
const PAY_CARD_TYPE = '01';

export function resp(code: RespCode, detail?: string): AcpFields {
  return { respCode: code, respMsg: detail ? `${RESP_MSG[code]}[${detail}]` : RESP_MSG[code] };
}

/** What every message about one transaction starts with: the product, the message type, and the
 *  transaction's identity (merId, orderId, txnTime). */
export function header(txnType: string, txnSubType: string, id: { merId: string; orderId: string; txnTime: string }): AcpFields {
  return {
    version: VERSION,
    encoding: ENCODING,
    bizType: '000201',
    txnType,
    txnSubType,
    accessType: '0',
    merId: id.merId,
    orderId: id.orderId,
    txnTime: id.txnTime,
  };
}

/** The trade as the consume it was: what every message about it repeats. */
function consumeFields(trade: TradeRow): AcpFields {
  return { ...header('01', '01', trade), txnAmt: String(trade.txnAmt), currencyCode: trade.currencyCode, ...reqReservedOf(trade) };
}

/** Echoed in every message about the transaction when the merchant sent one (§3.4). */
export function reqReservedOf(transaction: { reqReserved: string | null }): AcpFields {
  return transaction.reqReserved === null ? {} : { reqReserved: transaction.reqReserved };
}

/** No currency conversion in the sandbox: the settled amount is the amount, in the same currency. */
function settlementFields(trade: TradeRow, s: Settlement): AcpFields {
  return {
    queryId: s.queryId,
    traceNo: s.traceNo,
    traceTime: s.traceTime,
    settleAmt: String(trade.txnAmt),
    settleCurrencyCode: trade.currencyCode,
    settleDate: s.settleDate,
    accNo: s.accNo,
    payType: PAY_TYPE,
    payCardType: PAY_CARD_TYPE,
  };
}

function settled(trade: TradeRow): Settlement {
  if (!trade.settlement) throw new Error(`trade ${trade.merId}/${trade.orderId} is not paid, yet a paid message was asked for`);
  return trade.settlement;
}

/** The backUrl notification of a paid consume; the browser's front return carries the same fields. */
export function paidNotificationFields(trade: TradeRow): AcpFields {
  return { ...consumeFields(trade), ...resp('00'), ...settlementFields(trade, settled(trade)) };
}

/** The front return of a payment that did not happen (respCode 01): no backUrl notification follows (§3.4). */
export function failedReturnFields(trade: TradeRow, detail: string): AcpFields {
  return { ...consumeFields(trade), ...resp('01', detail) };
}

/**
 * respCode 34 until the transaction exists (orderId and txnTime both match); then respCode 00 and
 * the transaction's own state in origRespCode: 00 paid, 05 awaiting payment, and 01 once the
 * payTimeout passed unpaid, which is final (§3.7).
 */
export function queryAnswerFields(q: TransactionQuery, trade: TradeRow | undefined, now: Date): AcpFields {
  if (!trade || trade.txnTime !== q.txnTime) return notFoundAnswerFields(q);
  const orig = origRespCodeOf(trade, now);
  const state: AcpFields = { origRespCode: orig, origRespMsg: RESP_MSG[orig] };
  const paid = trade.settlement ? settlementFields(trade, trade.settlement) : {};
  const amount: AcpFields = { txnAmt: String(trade.txnAmt), currencyCode: trade.currencyCode };
  return { ...header('00', '00', q), ...resp('00'), ...state, ...amount, ...paid, ...reqReservedOf(trade) };
}

/** respCode 34: no transaction has this orderId and txnTime. */
export function notFoundAnswerFields(q: TransactionQuery): AcpFields {
  return { ...header('00', '00', q), ...resp('34') };
}

/** The channel's own word for the trade's state: the origRespCode a query would answer now. */
function origRespCodeOf(trade: TradeRow, now: Date): '00' | '01' | '05' {
  if (trade.state === 'PAID') return '00';
  return isPastPayTimeout(trade, now) ? '01' : '05';
}

export function isPastPayTimeout(trade: TradeRow, now: Date): boolean {
  return trade.payTimeout !== null && trade.payTimeout.getTime() <= now.getTime();
}

/** The answer to fileTransRequest.do: the file, or respCode 98 for a day without transactions. */
export function fileAnswerFields(r: FileRequest, file: BillFile | undefined): AcpFields {
  const head: AcpFields = {
    version: VERSION,
    encoding: ENCODING,
    bizType: '000000',
    txnType: '76',
    txnSubType: '01',
    accessType: '0',
    merId: r.merId,
    settleDate: r.settleDate,
    txnTime: r.txnTime,
    fileType: '00',
  };
  return file ? { ...head, ...resp('00'), fileName: file.fileName, fileContent: file.fileContent } : { ...head, ...resp('98') };
}

/** A refused synchronous request (bad signature, malformed, …): its own fields echoed where usable. */
export function refusedAnswerFields(request: AcpFields, r: Refusal): AcpFields {
  const echo: AcpFields = { version: VERSION, encoding: ENCODING };
  for (const name of ['bizType', 'txnType', 'txnSubType', 'accessType', 'merId', 'orderId', 'txnTime']) {
    const value = request[name];
    // Only short printable values are echoed: a refused message may carry anything.
    if (value !== undefined && /^[0-9A-Za-z]{1,40}$/.test(value)) echo[name] = value;
  }
  return { ...echo, ...resp(r.respCode, r.detail) };
}
