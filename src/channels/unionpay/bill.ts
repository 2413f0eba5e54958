// UnionPay's daily bill (channels.md §3.8, docs/refunds-and-bills.md): the file request names the
// day by settleDate (MMDD) alone, and the signed answer carries the file inline as base64 of a
// zlib-deflated ZIP whose `INN{yyMMdd}88ZM_{merId}` entry is the transaction detail. Pure but for
// the decompression: nothing here throws for what UnionPay sends.
import { inflateSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { checkBillDate } from '../bill-date.ts';
import { beijingDate } from '../../domain/reconciliation.ts';
import type { BillResult } from '../types.ts';
import { describe, screenAnswer, type QueryFact } from './classify.ts';
import { parseZmFile } from './zm-file.ts';

/** A day's answer, certificate and base64 overhead included; a merchant's busiest day stays far below. */
export const MAX_BILL_RESPONSE_BYTES = 32 * 1024 * 1024;
/** The inflated ZIP and the ZM_ file within it: about 125 bytes a transaction, so over 500 000 of them. */
export const MAX_BILL_FILE_BYTES = 64 * 1024 * 1024;

const RESP_CODE_OK = '00';
/** No file for that day: UnionPay's way of saying there were no transactions. */
const RESP_CODE_NO_FILE = '98';

/** The day a fetch is about, as the file request and the file name write it. */
export interface BillDay {
  merId: string;
  /** MMDD. */
  settleDate: string;
  /** `INN{yyMMdd}88ZM_{merId}`: the only part of the answer that names the year. */
  fileName: string;
}

/**
 * The day `date` (yyyy-MM-dd, Beijing) as UnionPay is asked for it, or the result without asking:
 * a future day is not ready, and since settleDate names the latest such day not in the future, a
 * day more than a year back cannot be asked for at all.
 */
export function billDayOf(date: string, now: Date, merId: string): BillDay | BillResult {
  const invalid = checkBillDate(date, now);
  if (invalid) return invalid;
  const today = beijingDate(now);
  const monthDay = date.slice(5);
  const year = Number(today.slice(0, 4)) - (monthDay > today.slice(5) ? 1 : 0);
  if (`${year}-${monthDay}` !== date) {
    return { kind: 'unknown', reason: `unionpay bill: ${date} is more than a year back; settleDate ${monthDay} names ${year}-${monthDay}` };
  }
  const settleDate = monthDay.replace('-', '');
  return { merId, settleDate, fileName: `INN${date.slice(2, 4)}${settleDate}88ZM_${merId}` };
}

/** The file request's answer: 98 is an empty bill, 00 a file to unpack, anything else unknown. */
export function billFromAnswer(fact: QueryFact, day: BillDay): BillResult {
  const screened = screenAnswer(fact, { merId: day.merId, settleDate: day.settleDate });
  if (typeof screened === 'string') return { kind: 'unknown', reason: describe(screened, fact) };
  if (screened.respCode === RESP_CODE_NO_FILE) return { kind: 'bill', lines: [] };
  if (screened.respCode !== RESP_CODE_OK) return { kind: 'unknown', reason: describe('file_refused', fact) };
  const fileContent = screened.fields.get('fileContent');
  if (fileContent === undefined) return { kind: 'unknown', reason: describe('malformed', fact) };
  const text = unpackZmFile(fileContent, day.fileName);
  if (typeof text !== 'string') return { kind: 'unknown', reason: `unionpay bill: ${text.malformed}` };
  const parsed = parseZmFile(text);
  if ('malformed' in parsed) return { kind: 'unknown', reason: `unionpay bill: ${parsed.malformed}` };
  return { kind: 'bill', lines: parsed.lines };
}

/** base64 → inflate → unzip → the one ZM_ entry, which must be the day's; or why not. */
function unpackZmFile(fileContent: string, fileName: string): string | { malformed: string } {
  let zip: Uint8Array;
  try {
    zip = inflateSync(Buffer.from(fileContent, 'base64'), { maxOutputLength: MAX_BILL_FILE_BYTES });
  } catch (err) {
    return { malformed: `fileContent is not a zlib-deflated file of at most ${MAX_BILL_FILE_BYTES} bytes (${(err as Error).message})` };
  }
  let oversized = false;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, {
      filter: (file) => {
        const wanted = file.name.includes('ZM_');
        if (wanted && file.originalSize > MAX_BILL_FILE_BYTES) oversized = true;
        return wanted && !oversized;
      },
    });
  } catch (err) {
    return { malformed: `fileContent is not a ZIP (${(err as Error).message})` };
  }
  if (oversized) return { malformed: `a ZM_ file larger than ${MAX_BILL_FILE_BYTES} bytes` };
  const names = Object.keys(entries);
  if (names.length !== 1) return { malformed: `${names.length} ZM_ files in the ZIP, not 1` };
  const name = names[0]!;
  // The answer's settleDate has no year; the file's name does, and must be the day asked for.
  if (name.slice(name.lastIndexOf('/') + 1) !== fileName) return { malformed: `the ZM_ file is ${JSON.stringify(name.slice(0, 80))}, not ${fileName}` };
  return Buffer.from(entries[name]!).toString('latin1');
}
