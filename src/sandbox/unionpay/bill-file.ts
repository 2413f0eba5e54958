// The daily reconciliation file of one merchant (channels.md §3.8, docs/refunds-and-bills.md): the
// Beijing day's successful consumes (by the time paid) and refunds (by the time accepted), bill
// plants applied, as the simplified fixed-width ZM file `INN{yyMMdd}88ZM_{merId}`, zipped, the zip
// zlib-deflated and base64-encoded for fileContent.
import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import type { BillPlants } from '../bill-plants.ts';
import { listBillLines, type UnionpayBillLine } from './refund-store.ts';
import type { Queryable } from './store.ts';
import { formatAcpTime } from './wire-format.ts';

/** One merchant's day in the sandbox stays far below this; a day beyond it is refused, not cut short. */
const BILL_LINES_MAX = 100_000;
const DAY_MS = 86_400_000;
/** ZM fields in order: name and fixed width (left-aligned, space-padded, one space between). */
const ZM_WIDTHS = { txnCode: 3, queryId: 21, orderId: 40, txnTime: 14, txnAmt: 12, currencyCode: 3, origQryId: 21, respCode: 2 } as const;

type ZmRecord = Record<keyof typeof ZM_WIDTHS, string>;

export interface BillFile {
  /** The zip's name. */
  fileName: string;
  /** base64 of the zlib-deflated zip. */
  fileContent: string;
}

/** The merchant's file for the Beijing day `day` (yyyy-MM-dd); undefined when it has no line (respCode 98). */
export async function dailyBillFile(
  deps: { db: Queryable; billPlants: BillPlants },
  merId: string,
  day: string,
): Promise<BillFile | undefined> {
  const from = new Date(`${day}T00:00:00+08:00`);
  const truth = await listBillLines(deps.db, merId, { from, to: new Date(from.getTime() + DAY_MS) }, BILL_LINES_MAX);
  if (truth.length >= BILL_LINES_MAX) throw new Error(`merchant ${merId} has ${BILL_LINES_MAX} or more transactions on ${day}`);
  const planted: UnionpayBillLine[] = deps.billPlants.apply('unionpay', day, merId, truth);
  // Only successful transactions appear: a consume is listed once paid, a refund once it succeeded.
  const lines = planted.filter((line) => line.kind === 'payment' || line.refundState === 'succeeded');
  if (lines.length === 0) return undefined;
  const yyMMdd = day.slice(2).replace(/-/g, '');
  const zm = lines.map((line) => formatZmLine(zmRecordOf(line)) + '\r\n').join('');
  const zip = zipSync({ [`INN${yyMMdd}88ZM_${merId}`]: Buffer.from(zm, 'ascii') });
  return { fileName: `${merId}_20${yyMMdd}.zip`, fileContent: deflateSync(zip).toString('base64') };
}

function zmRecordOf(line: UnionpayBillLine): ZmRecord {
  // A planted line has no txnTime of its own: the time it stands at.
  const txnTime = line.txnTime ?? formatAcpTime(line.at);
  const common = { txnTime, txnAmt: String(line.amount).padStart(ZM_WIDTHS.txnAmt, '0'), currencyCode: '156', respCode: '00' };
  if (line.kind === 'payment') return { ...common, txnCode: 'S22', queryId: line.transactionId, orderId: line.outTradeNo, origQryId: '' };
  if (line.refundId === undefined || line.outRefundNo === undefined) {
    throw new Error(`refund line of ${line.outTradeNo} lacks its refund numbers`);
  }
  return { ...common, txnCode: 'S30', queryId: line.refundId, orderId: line.outRefundNo, origQryId: line.transactionId };
}

function formatZmLine(record: ZmRecord): string {
  return Object.entries(ZM_WIDTHS)
    .map(([name, width]) => {
      const value = record[name as keyof ZmRecord];
      if (value.length > width) throw new Error(`ZM field ${name} ${JSON.stringify(value)} is wider than ${width}`);
      return value.padEnd(width, ' ');
    })
    .join(' ');
}
