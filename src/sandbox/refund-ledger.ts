// The control API's read of a channel's `refunds` view (docs/refunds-and-bills.md): every sandbox
// schema has one with the same channel-neutral columns, so one query serves the three channels.
import type { LedgerRefundEntry } from './channel.ts';
import { schemaTable, type Queryable } from './notification-store.ts';

/** The schema's refunds, of one trade or all, oldest first. */
export async function listLedgerRefunds(
  q: Queryable,
  schema: string,
  filter: { outTradeNo: string | undefined; limit: number },
): Promise<LedgerRefundEntry[]> {
  // amount is bigint in every view; a refund's fen always fit an integer. out_refund_no is unique
  // per trade only (Alipay's out_request_no), so the trade orders before it.
  const { rows } = await q.query<LedgerRefundEntry>(
    `SELECT mch_id AS "mchId", out_trade_no AS "outTradeNo", out_refund_no AS "outRefundNo", amount::integer AS amount,
            state, accepted_at AS "acceptedAt", finished_at AS "finishedAt"
       FROM ${schemaTable(schema, 'refunds')}
      WHERE $1::text IS NULL OR out_trade_no = $1
      ORDER BY accepted_at, mch_id, out_trade_no, out_refund_no
      LIMIT $2`,
    [filter.outTradeNo ?? null, filter.limit],
  );
  return rows;
}
