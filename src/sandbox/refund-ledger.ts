// What every channel's refunds share (docs/refunds-and-bills.md): the finish delay of an
// asynchronous refund, and the control API's read of the `refunds` view, which every sandbox schema
// has with the same channel-neutral columns, so one query serves the three channels.
import type { LedgerRefund } from './channel.ts';
import { schemaTable, type Queryable } from './notification-store.ts';

/** An asynchronous refund (WeChat Pay, UnionPay) finishes this long after the bank accepted it, times timeScale. */
export const REFUND_FINISH_DELAY_MS = 2_000;

type RefundViewRow = Omit<LedgerRefund, 'acceptedAt' | 'finishedAt'> & { acceptedAt: Date; finishedAt: Date | null };

/** The schema's refunds, of one trade or all, oldest first. */
export async function listLedgerRefunds(
  q: Queryable,
  schema: string,
  filter: { outTradeNo: string | undefined; limit: number },
): Promise<LedgerRefund[]> {
  // amount is bigint in every view; a refund's fen always fit an integer. out_refund_no is unique
  // per trade only (Alipay's out_request_no), so the trade orders before it.
  const { rows } = await q.query<RefundViewRow>(
    `SELECT channel, mch_id AS "mchId", out_trade_no AS "outTradeNo", out_refund_no AS "outRefundNo", amount::integer AS amount,
            state, accepted_at AS "acceptedAt", finished_at AS "finishedAt"
       FROM ${schemaTable(schema, 'refunds')}
      WHERE $1::text IS NULL OR out_trade_no = $1
      ORDER BY accepted_at, mch_id, out_trade_no, out_refund_no
      LIMIT $2`,
    [filter.outTradeNo ?? null, filter.limit],
  );
  return rows.map((row) => ({ ...row, acceptedAt: row.acceptedAt.toISOString(), finishedAt: row.finishedAt?.toISOString() ?? null }));
}
