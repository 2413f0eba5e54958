// The transaction detail file of UnionPay's daily bill (ZM_, channels.md §3.8) in the simplified
// layout of docs/refunds-and-bills.md: one fixed-width line per successful transaction, fields
// left-aligned, space-padded and separated by one space, lines ending in \r\n. Column positions are
// the format itself, so any line that does not fit them makes the whole file unreadable: a partial
// bill would report differences that are not there.
import { parseBeijingTime } from '../beijing-time.ts';
import type { BillLine } from '../types.ts';
import { ORDER_ID } from './messages.ts';
import { currencyOf } from './trade.ts';

/** Field names and widths in characters, in file order. */
const ZM_COLUMNS = [
  ['txnCode', 3],
  ['queryId', 21],
  ['orderId', 40],
  ['txnTime', 14],
  ['txnAmt', 12],
  ['currencyCode', 3],
  ['origQryId', 21],
  ['respCode', 2],
] as const;

type ZmColumn = (typeof ZM_COLUMNS)[number][0];

/** The widths plus one separating space between each two fields. */
const ZM_LINE_CHARS = ZM_COLUMNS.reduce((sum, [, width]) => sum + width, 0) + ZM_COLUMNS.length - 1;

const TXN_CODE_CONSUME = 'S22';
const TXN_CODE_REFUND = 'S30';
/** Zero-padded fen. Twelve digits stay below 2^53, so the number is exact. */
const PADDED_FEN = /^\d{12}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export type ZmParse = { lines: BillLine[] } | { malformed: string };

export function parseZmFile(text: string): ZmParse {
  const rows = text.split(/\r?\n/);
  // The last line ends with \r\n too, leaving one empty piece after it.
  if (rows[rows.length - 1] === '') rows.pop();
  const lines: BillLine[] = [];
  for (const [index, row] of rows.entries()) {
    const line = readZmLine(row);
    if (typeof line === 'string') return { malformed: `ZM line ${index + 1}: ${line}` };
    lines.push(line);
  }
  return { lines };
}

/** One line as a BillLine, or why it is not one. */
function readZmLine(row: string): BillLine | string {
  const fields = cutColumns(row);
  if (typeof fields === 'string') return fields;
  const { txnCode, queryId, orderId, txnTime, txnAmt, currencyCode, origQryId, respCode } = fields;
  if (respCode !== '00') return `respCode ${respCode} (only successful transactions are listed)`;
  if (queryId === '') return 'no queryId';
  if (!ORDER_ID.test(orderId)) return 'orderId is not 8 to 40 letters and digits';
  if (parseBeijingTime(txnTime) === undefined) return 'txnTime is not a yyyyMMddHHmmss time';
  if (!PADDED_FEN.test(txnAmt) || Number(txnAmt) === 0) return 'txnAmt is not 12 digits of fen above zero';
  if (currencyCode === '') return 'no currencyCode';
  const amounts = { amountMinor: Number(txnAmt), currency: currencyOf(currencyCode) };
  if (txnCode === TXN_CODE_CONSUME) {
    if (origQryId !== '') return 'a consume with an origQryId';
    return { kind: 'payment', outTradeNo: orderId, channelTradeNo: queryId, ...amounts };
  }
  if (txnCode === TXN_CODE_REFUND) {
    if (origQryId === '') return 'a refund without origQryId';
    // The file names the refunded consume only by its queryId.
    return { kind: 'refund', outTradeNo: '', channelTradeNo: origQryId, outRefundNo: orderId, ...amounts, refundStatus: 'succeeded' };
  }
  return `txnCode ${txnCode} is neither ${TXN_CODE_CONSUME} nor ${TXN_CODE_REFUND}`;
}

/** The line cut at the fixed positions, padding removed; why not when the line does not fit them. */
function cutColumns(row: string): Record<ZmColumn, string> | string {
  if (row.length !== ZM_LINE_CHARS) return `${row.length} characters, not ${ZM_LINE_CHARS}`;
  if (!PRINTABLE_ASCII.test(row)) return 'characters outside printable ASCII';
  const fields = {} as Record<ZmColumn, string>;
  let at = 0;
  for (const [name, width] of ZM_COLUMNS) {
    if (at > 0 && row[at - 1] !== ' ') return `no space before ${name}`;
    const value = row.slice(at, at + width).trimEnd();
    // Left-aligned and free of spaces: a space inside means the columns have shifted.
    if (value.includes(' ')) return `${name} is not left-aligned in its ${width} characters`;
    fields[name] = value;
    at += width + 1;
  }
  return fields;
}
