// The daily trade bill (channels.md §1.9, docs/refunds-and-bills.md): the signed answer of
// `GET /v3/bill/tradebill`, the downloaded file checked against its SHA1, and the file read by
// header name. Pure: the calls are made in index.ts. A bill is whole or it is `unknown`.
import { createHash } from 'node:crypto';
import type { HttpAnswer, HttpFailure } from '../../http/request.ts';
import { columnIndex } from '../bill-columns.ts';
import type { BillLine, BillResult } from '../types.ts';
import { yuanToFen } from '../yuan.ts';
import { REASON_BODY_CHARS, describeSuccess, normalizeCode, type Classified } from './classify.ts';
import { refundStateOf } from './refund.ts';
import { readJsonObject } from './transaction.ts';

type Unknown = Extract<BillResult, { kind: 'unknown' }>;

export type BillDownload = { kind: 'download'; url: URL; hashValue: string } | Unknown;

/** The detail columns read, by the names the bill's first line gives them (their order can change). */
const COLUMNS = {
  tradeState: '交易状态',
  channelTradeNo: '微信订单号',
  outTradeNo: '商户订单号',
  currency: '货币种类',
  orderAmount: '订单金额',
  outRefundNo: '商户退款单号',
  refundAmount: '申请退款金额',
  refundStatus: '退款状态',
} as const;
type Column = keyof typeof COLUMNS;

/** The first name of the summary header, which ends the detail lines. */
const SUMMARY_HEADER_START = '总交易单数';
/** Every detail and summary value starts with a backtick, so that Excel keeps it as text. */
const VALUE_PREFIX = '`';
const SHA1_HEX = /^[0-9a-f]{40}$/i;

/** A refused bill request: "no statement" is a day without transactions, "creating" a bill not made yet. */
export function billRefusalOutcome(answer: Exclude<Classified, { outcome: 'success' }>): BillResult {
  if (answer.outcome === 'rejected') {
    switch (normalizeCode(answer.code)) {
      case 'NOSTATEMENTEXIST':
        return { kind: 'bill', lines: [] };
      case 'STATEMENTCREATING':
        return { kind: 'not_ready', reason: answer.reason };
    }
  }
  return { kind: 'unknown', reason: answer.reason };
}

/**
 * The signed `{hash_type, hash_value, download_url}`. The URL is absolute and must name the
 * configured API origin: our signed GET goes wherever it points, so another host is refused.
 */
export function readBillDownload(answer: Extract<Classified, { outcome: 'success' }>, baseUrl: string): BillDownload {
  const body = readJsonObject(answer.body);
  const { hash_type: hashType, hash_value: hashValue, download_url: downloadUrl } = body ?? {};
  if (hashType !== 'SHA1' || typeof hashValue !== 'string' || !SHA1_HEX.test(hashValue) || typeof downloadUrl !== 'string') {
    return { kind: 'unknown', reason: `malformed_answer: no SHA1 hash_value and download_url; ${describeSuccess(answer)}` };
  }
  let url: URL;
  try {
    url = new URL(downloadUrl);
  } catch {
    return { kind: 'unknown', reason: `malformed_answer: download_url is not an absolute URL; ${describeSuccess(answer)}` };
  }
  if (url.origin !== new URL(baseUrl).origin) {
    return { kind: 'unknown', reason: `foreign_download_url: ${url.origin} is not the configured API host` };
  }
  return { kind: 'download', url, hashValue: hashValue.toLowerCase() };
}

/** The unsigned file: a 200 whose SHA1 is the signed hash_value, then parsed whole. */
export function readBillFile(answer: HttpAnswer | HttpFailure, hashValue: string): BillResult {
  if (answer.kind === 'timeout') {
    return { kind: 'unknown', reason: `bill_download timeout: no answer within ${answer.timeoutMs} ms` };
  }
  if (answer.kind === 'network_error') return { kind: 'unknown', reason: `bill_download network_error: ${answer.detail}` };
  if (answer.status !== 200) {
    const body = answer.bytes.subarray(0, REASON_BODY_CHARS).toString('utf8').replace(/\s+/g, ' ');
    return { kind: 'unknown', reason: `bill_download status=${answer.status} body=${body}` };
  }
  const sha1 = createHash('sha1').update(answer.bytes).digest('hex');
  if (sha1 !== hashValue) return { kind: 'unknown', reason: `bill_hash_mismatch: file SHA1 ${sha1}, signed ${hashValue}` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(answer.bytes);
  } catch {
    return { kind: 'unknown', reason: 'malformed_bill: not UTF-8' };
  }
  return parseTradeBill(text);
}

/** Detail header, backticked detail lines, summary header, one backticked summary line. */
export function parseTradeBill(text: string): BillResult {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const header = lines[0]?.split(',').map((name) => name.trim()) ?? [];
  const index = columnIndex(header, COLUMNS);
  if (typeof index === 'string') return malformedBill(index);
  const summaryAt = lines.findIndex((line) => line.startsWith(SUMMARY_HEADER_START));
  // The summary header then its one line close the file: without them it may be cut short.
  if (summaryAt < 1 || summaryAt !== lines.length - 2 || !lines[summaryAt + 1]!.startsWith(VALUE_PREFIX)) {
    return malformedBill('no summary at the end');
  }
  const billLines: BillLine[] = [];
  for (let n = 1; n < summaryAt; n += 1) {
    const line = lines[n]!;
    // Split at ",`" rather than ",": a value (商品名称) may itself hold a comma.
    const values = line.startsWith(VALUE_PREFIX) ? line.slice(1).split(`,${VALUE_PREFIX}`) : [];
    if (values.length !== header.length) return malformedBill(`line ${n + 1} has ${values.length} of ${header.length} values`);
    const read = (column: Column): string => values[index[column]]!;
    const billLine = readDetailLine(read);
    if (typeof billLine === 'string') return malformedBill(`line ${n + 1}: ${billLine}`);
    billLines.push(billLine);
  }
  return { kind: 'bill', lines: billLines };
}

/** A payment (交易状态 SUCCESS) or a refund (REFUND); a string says what is wrong with the line. */
function readDetailLine(read: (column: Column) => string): BillLine | string {
  const outTradeNo = read('outTradeNo');
  const channelTradeNo = read('channelTradeNo');
  const currency = read('currency');
  if (outTradeNo === '' || channelTradeNo === '' || currency === '') return 'no 商户订单号, 微信订单号 or 货币种类';
  const state = read('tradeState');
  switch (state) {
    case 'SUCCESS': {
      const amountMinor = yuanToFen(read('orderAmount'));
      if (amountMinor === undefined) return `订单金额 ${JSON.stringify(read('orderAmount'))}`;
      return { kind: 'payment', outTradeNo, channelTradeNo, amountMinor, currency };
    }
    case 'REFUND': {
      const outRefundNo = read('outRefundNo');
      const amountMinor = yuanToFen(read('refundAmount'));
      const refundStatus = refundStateOf(read('refundStatus'));
      if (outRefundNo === '') return 'refund without 商户退款单号';
      if (amountMinor === undefined) return `申请退款金额 ${JSON.stringify(read('refundAmount'))}`;
      if (refundStatus === undefined) return `退款状态 ${JSON.stringify(read('refundStatus'))}`;
      return { kind: 'refund', outTradeNo, channelTradeNo, outRefundNo, amountMinor, currency, refundStatus };
    }
    default:
      return `交易状态 ${JSON.stringify(state).slice(0, 40)}`;
  }
}

function malformedBill(detail: string): Unknown {
  return { kind: 'unknown', reason: `malformed_bill: ${detail}` };
}
