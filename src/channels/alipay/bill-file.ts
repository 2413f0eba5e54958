// Reads Alipay's daily trade bill (docs/refunds-and-bills.md, Alipay "Bill"): a ZIP holding GBK CSV
// files, of which the detail file (…业务明细.csv, not …业务明细(汇总).csv) lists one trade or refund
// per line. Pure: bytes in, a whole bill or `unknown` out — never a partial bill.
import { unzipSync } from 'fflate';
import iconv from 'iconv-lite';
import { columnIndex } from '../bill-columns.ts';
import type { BillLine, BillResult } from '../types.ts';
import { yuanToFen } from '../yuan.ts';

const DETAIL_SUFFIX = '业务明细.csv';
const SUMMARY_MARK = '汇总';

/** The columns read, by header name: the column order is not relied on. */
const COLUMNS = {
  channelTradeNo: '支付宝交易号',
  outTradeNo: '商户订单号',
  type: '业务类型',
  amount: '订单金额（元）',
  outRefundNo: '退款批次号/请求号',
} as const;

type Column = keyof typeof COLUMNS;

const PAYMENT_TYPE = '交易';
const REFUND_TYPE = '退款';

type Unknown = Extract<BillResult, { kind: 'unknown' }>;
const unknown = (reason: string): Unknown => ({ kind: 'unknown', reason: `alipay bill: ${reason}` });

export function parseAlipayBillZip(zipBytes: Uint8Array): BillResult {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zipBytes);
  } catch (err) {
    return unknown(`not a readable ZIP (${err instanceof Error ? err.message : String(err)})`);
  }
  const details = Object.keys(files).filter((name) => {
    const readable = zipEntryName(name);
    return readable.endsWith(DETAIL_SUFFIX) && !readable.includes(SUMMARY_MARK);
  });
  if (details.length !== 1) return unknown(`expected one detail file, found ${details.length}`);
  return parseTradeBill(iconv.decode(Buffer.from(files[details[0]!]!), 'gbk'));
}

/**
 * fflate decodes an entry name as UTF-8 only when the ZIP says so; Alipay's archives write names
 * in GBK without saying, which then arrive as one Latin-1 character per byte.
 */
function zipEntryName(name: string): string {
  if ([...name].some((c) => c.charCodeAt(0) > 0xff)) return name;
  const bytes = Buffer.from(name, 'latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return iconv.decode(bytes, 'gbk');
  }
}

/** The detail file's text: `#` comment lines, one header line, then one line per trade or refund. */
export function parseTradeBill(text: string): BillResult {
  const rows = text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map(splitCsvLine);
  const [header, ...records] = rows;
  if (!header) return unknown('no header line');
  const index = columnIndex(header.map(trimPadding), COLUMNS);
  if (typeof index === 'string') return unknown(index);
  const lines: BillLine[] = [];
  for (const [i, record] of records.entries()) {
    if (record.length !== header.length) return unknown(`line ${i + 1} has ${record.length} fields, the header ${header.length}`);
    const cell = (column: Column) => trimPadding(record[index[column]]!);
    const line = readBillLine(cell);
    if (typeof line === 'string') return unknown(`line ${i + 1}: ${line}`);
    lines.push(line);
  }
  return { kind: 'bill', lines };
}

/** One record as a BillLine, or why it cannot be one. */
function readBillLine(cell: (column: Column) => string): BillLine | string {
  const outTradeNo = cell('outTradeNo');
  const channelTradeNo = cell('channelTradeNo');
  if (outTradeNo === '' || channelTradeNo === '') return 'no trade numbers';
  const type = cell('type');
  const amountText = cell('amount');
  switch (type) {
    case PAYMENT_TYPE: {
      const amountMinor = yuanToFen(amountText);
      if (!amountMinor) return `unreadable payment amount ${JSON.stringify(amountText)}`;
      return { kind: 'payment', outTradeNo, channelTradeNo, amountMinor, currency: 'CNY' };
    }
    case REFUND_TYPE: {
      // Refunds are written as negative amounts; the bill line carries the positive fen.
      const amountMinor = yuanToFen(amountText.replace(/^-/, ''));
      const outRefundNo = cell('outRefundNo');
      if (!amountMinor) return `unreadable refund amount ${JSON.stringify(amountText)}`;
      if (outRefundNo === '') return 'refund without 退款批次号/请求号';
      // Only successful refunds are listed in Alipay's bill.
      return { kind: 'refund', outTradeNo, channelTradeNo, outRefundNo, amountMinor, currency: 'CNY', refundStatus: 'succeeded' };
    }
    default:
      return `unexpected 业务类型 ${JSON.stringify(type.slice(0, 20))}`;
  }
}

/** Alipay pads values with tabs and spaces (so spreadsheets keep long numbers as text). */
function trimPadding(value: string): string {
  return value.replace(/^[\t ]+|[\t ]+$/g, '');
}

/** Comma-separated fields; a field in double quotes may hold commas, and `""` inside it is one quote. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"' && (quoted || trimPadding(field) === '')) {
      quoted = !quoted;
      if (quoted) field = '';
    } else if (c === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}
