// The trade bill (channels.md §1.9, docs/refunds-and-bills.md), mounted inside
// wechatpayApiRoutes: GET /v3/bill/tradebill renders the merchant's Beijing day from the ledger
// (after the bill plants), keeps the bytes for 30 s and answers their SHA1 and a download_url;
// GET /v3/billdownload/file serves them, signed request, unsigned answer.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BillDownloads } from '../bill-downloads.ts';
import type { BillPlants, SandboxBillLine } from '../bill-plants.ts';
import type { FaultSwitchboard } from '../faults.ts';
import { queryFault, sendError, sendJson, sendUnsignedFile } from './api-replies.ts';
import { renderTradeBill } from './bill.ts';
import type { Merchant } from './merchants.ts';
import { refundStatusAt, type RefundStatus } from './refund.ts';
import { listPaymentsPaidBetween, listRefundsAcceptedBetween, type TradeDetails } from './refund-store.ts';
import type { Queryable } from './store.ts';
import { beijingDate } from './wire-format.ts';

/** Payments, and refunds, of one merchant's day the sandbox renders at most; a larger day is a 500. */
const BILL_LINES_MAX = 100_000;
const DAY_MS = 86_400_000;
const BILL_TYPES = ['ALL', 'SUCCESS', 'REFUND'] as const;
type BillType = (typeof BILL_TYPES)[number];

const BILL_REFUND_STATE: Record<RefundStatus, NonNullable<SandboxBillLine['refundState']>> = {
  PROCESSING: 'processing',
  SUCCESS: 'succeeded',
  CLOSED: 'failed',
};

export interface WechatpayBillDeps {
  db: Queryable;
  faults: FaultSwitchboard;
  billPlants: BillPlants;
  authenticated(req: FastifyRequest): Merchant;
}

export function wechatpayBillRoutes(deps: WechatpayBillDeps) {
  const { db, faults, billPlants, authenticated } = deps;
  const downloads = new BillDownloads<{ mchId: string; bytes: Buffer }>();

  return async function plugin(api: FastifyInstance): Promise<void> {
    api.get<{ Querystring: Record<string, unknown> }>('/bill/tradebill', async (req, reply) => {
      const merchant = authenticated(req);
      const faulted = queryFault(faults, req, reply);
      if (faulted) return faulted;
      const { bill_date: date, bill_type: billType = 'ALL', tar_type: tarType } = req.query;
      if (typeof date !== 'string' || !isCalendarDate(date)) return sendError(reply, 400, 'PARAM_ERROR', 'bill_date must be a date yyyy-MM-dd');
      if (!BILL_TYPES.includes(billType as BillType)) return sendError(reply, 400, 'PARAM_ERROR', `bill_type must be one of ${BILL_TYPES.join(', ')}`);
      if (tarType !== undefined) return sendError(reply, 400, 'PARAM_ERROR', 'tar_type is not supported by the sandbox: bills are served uncompressed');
      const now = new Date();
      // The real bank has a day's bill from about 09:00 the next day; the sandbox has it at once.
      if (date > beijingDate(now)) return sendError(reply, 400, 'STATEMENT_CREATING', `the bill of ${date} is not ready`);

      const { lines, details } = await ledgerDay(db, merchant.mchId, date, now);
      const billed = billPlants
        .apply('wechatpay', date, merchant.mchId, lines)
        .filter((line) => billType === 'ALL' || (billType === 'SUCCESS') === (line.kind === 'payment'));
      if (billed.length === 0) return sendError(reply, 400, 'NO_STATEMENT_EXIST', `no transactions on ${date}`);
      const bytes = Buffer.from(renderTradeBill(billed, merchant.appId, details), 'utf8');
      const token = downloads.keep({ mchId: merchant.mchId, bytes }, now.getTime());
      return sendJson(reply, 200, {
        hash_type: 'SHA1',
        hash_value: createHash('sha1').update(bytes).digest('hex'),
        download_url: `${req.protocol}://${req.host}${api.prefix}/billdownload/file?token=${token}`,
      });
    });

    api.get<{ Querystring: Record<string, unknown> }>('/billdownload/file', async (req, reply) => {
      const merchant = authenticated(req);
      const faulted = queryFault(faults, req, reply);
      if (faulted) return faulted;
      const { token } = req.query;
      const file = typeof token === 'string' ? downloads.find(token, Date.now()) : undefined;
      // A token issued to another merchant finds nothing for this one.
      if (file?.mchId !== merchant.mchId) return sendError(reply, 400, 'INVALID_REQUEST', 'download_url is unknown or expired (valid 30 s)');
      return sendUnsignedFile(reply, file.bytes);
    });
  };
}

/** The merchant's true bill lines of a Beijing day: payments by paid time, refunds by accepted time, in time order. */
async function ledgerDay(
  db: Queryable,
  mchId: string,
  date: string,
  now: Date,
): Promise<{ lines: SandboxBillLine[]; details: Map<string, TradeDetails> }> {
  const from = new Date(`${date}T00:00:00+08:00`);
  const day = { from, to: new Date(from.getTime() + DAY_MS), limit: BILL_LINES_MAX };
  const [payments, refunds] = await Promise.all([listPaymentsPaidBetween(db, mchId, day), listRefundsAcceptedBetween(db, mchId, day)]);
  if (payments.length === BILL_LINES_MAX || refunds.length === BILL_LINES_MAX) {
    throw new Error(`the bill of ${mchId} for ${date} has more than ${BILL_LINES_MAX} payments or refunds`);
  }
  const details = new Map<string, TradeDetails>();
  const lines: SandboxBillLine[] = [];
  for (const p of payments) {
    details.set(p.outTradeNo, p);
    lines.push({ kind: 'payment', mchId, outTradeNo: p.outTradeNo, transactionId: p.transactionId, amount: p.amountTotal, at: p.paidAt });
  }
  for (const r of refunds) {
    details.set(r.outTradeNo, r);
    lines.push({
      kind: 'refund',
      mchId,
      outTradeNo: r.outTradeNo,
      transactionId: r.transactionId,
      outRefundNo: r.outRefundNo,
      refundId: r.refundId,
      amount: r.amountRefund,
      at: r.acceptedAt,
      refundState: BILL_REFUND_STATE[refundStatusAt(r, now)],
    });
  }
  return { lines: lines.sort((a, b) => a.at.getTime() - b.at.getTime()), details };
}

/** yyyy-MM-dd naming a real day (not 2024-02-30). */
function isCalendarDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && beijingDate(new Date(`${text}T00:00:00+08:00`)) === text;
}
