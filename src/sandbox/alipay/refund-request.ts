// The business content of the refund and bill calls (channels.md §2.7, §2.9, §2.10;
// docs/refunds-and-bills.md), checked field by field.
import { parseTradeRef, type Parse, type TradeRef } from './trade-request.ts';
import { parseBeijingTime, parseYuan } from './wire-format.ts';

/** Alipay's limit on out_request_no; letters, digits and _ - like every number Paycenter makes. */
const OUT_REQUEST_NO = /^[A-Za-z0-9_-]{1,64}$/;
const REFUND_REASON_MAX_CHARS = 256;
const BILL_DATE = /^\d{4}-\d{2}-\d{2}$/;

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

export interface RefundRequest extends TradeRef {
  refundAmountFen: number;
  /** Absent: only a full refund may omit it (it then takes the out_trade_no, §2.7). */
  outRequestNo: string | undefined;
  refundReason: string | null;
}

/** biz_content of alipay.trade.refund. */
export function parseRefundRequest(biz: Record<string, unknown>): Parse<RefundRequest> {
  const ref = parseTradeRef(biz);
  if (!ref.ok) return ref;
  const { refund_amount, out_request_no, refund_reason } = biz;
  const refundAmountFen = typeof refund_amount === 'string' ? parseYuan(refund_amount) : undefined;
  if (refundAmountFen === undefined) return fail('refund_amount must be a string of yuan with at most 2 decimals, from 0.01');
  const outRequestNo = parseOutRequestNo(out_request_no);
  if (!outRequestNo.ok) return outRequestNo;
  if (refund_reason !== undefined && (typeof refund_reason !== 'string' || [...refund_reason].length > REFUND_REASON_MAX_CHARS)) {
    return fail(`refund_reason must be a string of at most ${REFUND_REASON_MAX_CHARS} characters`);
  }
  return { ok: true, value: { ...ref.value, refundAmountFen, outRequestNo: outRequestNo.value, refundReason: refund_reason ?? null } };
}

export interface RefundQuery extends TradeRef {
  outRequestNo: string | undefined;
}

/** biz_content of alipay.trade.fastpay.refund.query. */
export function parseRefundQuery(biz: Record<string, unknown>): Parse<RefundQuery> {
  const ref = parseTradeRef(biz);
  if (!ref.ok) return ref;
  const outRequestNo = parseOutRequestNo(biz.out_request_no);
  if (!outRequestNo.ok) return outRequestNo;
  return { ok: true, value: { ...ref.value, outRequestNo: outRequestNo.value } };
}

function parseOutRequestNo(v: unknown): Parse<string | undefined> {
  if (v === undefined) return { ok: true, value: undefined };
  if (typeof v !== 'string' || !OUT_REQUEST_NO.test(v)) return fail('out_request_no must be 1-64 letters, digits, _ or -');
  return { ok: true, value: v };
}

/** biz_content of alipay.data.dataservice.bill.downloadurl.query: the sandbox keeps daily trade bills only. */
export function parseBillRequest(biz: Record<string, unknown>): Parse<{ billDate: string; dayStart: Date }> {
  const { bill_type, bill_date } = biz;
  if (bill_type !== 'trade') return fail('bill_type must be trade (the sandbox keeps no signcustomer bills)');
  const dayStart = typeof bill_date === 'string' && BILL_DATE.test(bill_date) ? parseBeijingTime(`${bill_date} 00:00:00`) : undefined;
  if (typeof bill_date !== 'string' || !dayStart) return fail('bill_date must be a day as yyyy-MM-dd (the sandbox keeps no monthly bills)');
  return { ok: true, value: { billDate: bill_date, dayStart } };
}
