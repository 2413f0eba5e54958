// How WeChat Pay spells times and identifiers on the wire.
import { randomBytes, randomInt } from 'node:crypto';

const BEIJING_OFFSET_MS = 8 * 3600_000;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** RFC 3339 in Beijing time with an explicit offset, as WeChat writes every time: 2024-01-01T12:00:00+08:00. */
export function formatBeijingTime(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 19) + '+08:00';
}

/** yyyy-MM-dd HH:mm:ss in Beijing time, as the trade bill writes 交易时间. */
export function formatBeijingDateTime(at: Date): string {
  return formatBeijingTime(at).slice(0, 19).replace('T', ' ');
}

/** The Beijing calendar day (yyyy-MM-dd) of an instant: the day of a bill. */
export function beijingDate(at: Date): string {
  return formatBeijingTime(at).slice(0, 10);
}

/** Yuan with exactly two decimals, as the bill writes amounts; fen are whole and non-negative. */
export function formatYuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** yyyyMMdd[HHmmss] in Beijing time, the date prefix of WeChat's ids. */
function beijingDigits(at: Date, withTime: boolean): string {
  const iso = new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString();
  const date = iso.slice(0, 10).replaceAll('-', '');
  return withTime ? date + iso.slice(11, 19).replaceAll(':', '') : date;
}

function randomDigits(count: number): string {
  let digits = '';
  while (digits.length < count) digits += String(randomInt(0, 100_000_000)).padStart(8, '0');
  return digits.slice(0, count);
}

export function randomAlphanumeric(length: number): string {
  const bytes = randomBytes(length);
  let text = '';
  // 256 % 62 leaves a slight bias, harmless for nonces and ids that only need to be unguessable-ish.
  for (const byte of bytes) text += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return text;
}

/** 28 digits like 4200001234202401011234567890: "4200" + date + 16 random digits (unique per day in practice). */
export function newTransactionId(at: Date): string {
  return '4200' + beijingDigits(at, false) + randomDigits(16);
}

/** 29 digits like WeChat's refund_id: "50300" + date + 16 random digits. */
export function newRefundId(at: Date): string {
  return '50300' + beijingDigits(at, false) + randomDigits(16);
}

/** EV- + timestamp + 12 random digits; reused across every retry of the same notification. */
export function newNotificationId(at: Date): string {
  return 'EV-' + beijingDigits(at, true) + randomDigits(12);
}

export function newCodeUrl(): string {
  return 'weixin://wxpay/bizpayurl?pr=' + randomAlphanumeric(12);
}

/** A 28-character openid, the shape WeChat gives a payer within one appid. */
export function newPayerOpenid(): string {
  return 'o' + randomAlphanumeric(27);
}

/** 32 upper-case hex characters, for Wechatpay-Nonce and Request-ID. */
export function newHexToken(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}
