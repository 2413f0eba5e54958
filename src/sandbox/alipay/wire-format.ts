// How Alipay spells times, amounts and identifiers on the wire (channels.md §2.1, §2.7).
import { randomBytes, randomInt } from 'node:crypto';

const BEIJING_OFFSET_MS = 8 * 3600_000;
const BEIJING_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const YUAN = /^(0|[1-9]\d{0,7})(?:\.(\d{1,2}))?$/;
/**
 * The ledger keeps fen in a 32-bit integer, like WeChat's: 21,474,836.47 yuan, far above any test,
 * though below Alipay's own ceiling of 100,000,000.00.
 */
const AMOUNT_FEN_MAX = 2_147_483_647;
const URL_MAX_CHARS = 256;

/** `yyyy-MM-dd HH:mm:ss` in Beijing time, Alipay's only time format. */
export function formatBeijingTime(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** The instant a `yyyy-MM-dd HH:mm:ss` Beijing time names; undefined for anything else (2024-02-30 included). */
export function parseBeijingTime(text: string): Date | undefined {
  const m = BEIJING_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second) - BEIJING_OFFSET_MS);
  return formatBeijingTime(at) === text ? at : undefined;
}

/** Midnight at the end of the Beijing day that contains `at` (timeout_express "1c"). */
export function endOfBeijingDay(at: Date): Date {
  const beijing = new Date(at.getTime() + BEIJING_OFFSET_MS);
  return new Date(Date.UTC(beijing.getUTCFullYear(), beijing.getUTCMonth(), beijing.getUTCDate() + 1) - BEIJING_OFFSET_MS);
}

/** Fen from a yuan string with at most two decimals ("88.88", "1", "0.5"); undefined if not one, or out of range. */
export function parseYuan(text: string): number | undefined {
  const m = YUAN.exec(text);
  if (!m) return undefined;
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return fen >= 1 && fen <= AMOUNT_FEN_MAX ? fen : undefined;
}

/** Yuan with exactly two decimals, as Alipay writes every amount. */
export function formatYuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

export function isHttpUrl(text: string): boolean {
  if (text.length > URL_MAX_CHARS) return false;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function randomDigits(count: number): string {
  return Array.from({ length: count }, () => randomInt(0, 10)).join('');
}

/** 2088 + 12 digits: the shape of an Alipay user id, sellers' and buyers' alike. */
export function newAlipayUserId(): string {
  return '2088' + randomDigits(12);
}

/** A masked buyer account, as Alipay shows it to merchants. */
export function newBuyerLogonId(): string {
  return `13${randomDigits(1)}****${randomDigits(4)}`;
}

/** 28 digits: the Beijing date, then 20 random digits (like 2024010122001412345678901234). */
export function newTradeNo(at: Date): string {
  return formatBeijingTime(at).slice(0, 10).replaceAll('-', '') + '2200' + randomDigits(16);
}

/** Reused by every retry of the same notification. */
export function newNotifyId(): string {
  return randomBytes(16).toString('hex') + randomDigits(3);
}

export function newQrCode(): string {
  return 'https://qr.alipay.com/bax' + randomBytes(12).toString('hex');
}
