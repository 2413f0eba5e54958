// G1, G3 and G5: the sandbox bank's ledgers (one view per simulated channel, in the same
// database) against Paycenter's orders, attempts and notifications. The ledgers are the truth
// about money: Paycenter must know every payment the bank took (G1), keep no order paid twice or
// paid without money (G3), and let no forged notification move anything (G5).
import type { Queryable } from '../../store/db.ts';
import type { InvariantResult, WorkloadLog } from '../types.ts';
import { countOf, invariantResult, ViolationList } from './result.ts';

/**
 * Every trade of every simulated channel: (channel, mch_id, out_trade_no, transaction_id, state
 * paid|not_paid|closed, amount, currency). Trades join attempts on (channel, out_trade_no).
 */
const LEDGER = `(SELECT * FROM sandbox_wechatpay.ledger
                 UNION ALL SELECT * FROM sandbox_alipay.ledger
                 UNION ALL SELECT * FROM sandbox_unionpay.ledger)`;

interface UnaccountedTrade {
  channel: string;
  out_trade_no: string;
  transaction_id: string | null;
  attempt_id: string | null;
  attempt_state: string | null;
  order_id: string | null;
  order_state: string | null;
  paid_attempt_id: string | null;
}

/** G1: every trade the ledger shows SUCCESS is a SUCCEEDED attempt whose order is PAID by it. */
export async function checkNoLostPayment(db: Queryable): Promise<InvariantResult> {
  const checked = await countOf(db, `SELECT count(*)::int AS n FROM ${LEDGER} t WHERE state = 'paid'`);
  // coalesce: a trade with no attempt makes the condition NULL, and NOT NULL would hide it.
  const { rows } = await db.query<UnaccountedTrade>(
    `SELECT t.channel, t.out_trade_no, t.transaction_id, a.id AS attempt_id, a.state AS attempt_state,
            o.id AS order_id, o.state AS order_state, o.paid_attempt_id
       FROM ${LEDGER} t
       LEFT JOIN payment_attempts a ON a.channel = t.channel AND a.out_trade_no = t.out_trade_no
       LEFT JOIN orders o ON o.id = a.order_id
      WHERE t.state = 'paid'
        AND NOT coalesce(a.state = 'SUCCEEDED' AND o.state = 'PAID' AND o.paid_attempt_id = a.id, false)
      ORDER BY t.out_trade_no`,
  );
  const violations = rows.map((r) => ({
    id: r.out_trade_no,
    detail:
      r.attempt_id === null
        ? `paid at the bank (transaction ${r.transaction_id}) but Paycenter has no ${r.channel} attempt with this out_trade_no`
        : `paid at the bank (transaction ${r.transaction_id}); attempt ${r.attempt_id} is ${r.attempt_state}, ` +
          `order ${r.order_id} is ${r.order_state} with paid_attempt_id ${r.paid_attempt_id ?? 'null'}`,
  }));
  return invariantResult('G1', checked, violations);
}

interface OrderPayment {
  id: string;
  state: string;
  paid_attempt_id: string | null;
  succeeded: string[];
  paid_trades: string[];
  paying_attempt_state: string | null;
  paying_trade_no: string | null;
  paying_trade_state: string | null;
}

/**
 * G3, per order of the app: at most one SUCCEEDED attempt, at most one of its trades SUCCESS at the
 * bank; a PAID order has exactly one SUCCEEDED attempt, it is paid_attempt_id, and the bank has
 * that trade SUCCESS (otherwise we claim money we never got).
 */
export async function checkNoDoubleCharge(db: Queryable, appId: string): Promise<InvariantResult> {
  const checked = await countOf(db, 'SELECT count(*)::int AS n FROM orders WHERE app_id = $1', [appId]);
  const { rows } = await db.query<OrderPayment>(
    `WITH per_order AS (
       SELECT o.id, o.state, o.paid_attempt_id,
              coalesce(array_agg(a.id ORDER BY a.created_at, a.id) FILTER (WHERE a.state = 'SUCCEEDED'), '{}') AS succeeded,
              coalesce(array_agg(a.out_trade_no ORDER BY a.created_at, a.id) FILTER (WHERE t.state = 'paid'), '{}') AS paid_trades,
              max(a.state) FILTER (WHERE a.id = o.paid_attempt_id) AS paying_attempt_state,
              max(a.out_trade_no) FILTER (WHERE a.id = o.paid_attempt_id) AS paying_trade_no,
              max(t.state) FILTER (WHERE a.id = o.paid_attempt_id) AS paying_trade_state
         FROM orders o
         LEFT JOIN payment_attempts a ON a.order_id = o.id
         LEFT JOIN ${LEDGER} t ON t.channel = a.channel AND t.out_trade_no = a.out_trade_no
        WHERE o.app_id = $1
        GROUP BY o.id
     )
     SELECT * FROM per_order
      WHERE cardinality(succeeded) > 1
         OR cardinality(paid_trades) > 1
         OR (state = 'PAID' AND (cardinality(succeeded) <> 1
                                 OR paying_attempt_state IS DISTINCT FROM 'SUCCEEDED'
                                 OR paying_trade_state IS DISTINCT FROM 'paid'))
      ORDER BY id`,
    [appId],
  );
  const violations = new ViolationList();
  for (const r of rows) {
    if (r.succeeded.length > 1) violations.add(r.id, `${r.succeeded.length} attempts SUCCEEDED (${r.succeeded.join(', ')})`);
    if (r.paid_trades.length > 1) violations.add(r.id, `${r.paid_trades.length} trades paid at the bank (${r.paid_trades.join(', ')})`);
    if (r.state !== 'PAID') continue;
    if (r.succeeded.length === 0) violations.add(r.id, 'PAID with no SUCCEEDED attempt');
    if (r.paying_attempt_state === null) {
      violations.add(r.id, `PAID by attempt ${r.paid_attempt_id ?? 'null'}, which is not one of its attempts`);
    } else if (r.paying_attempt_state !== 'SUCCEEDED') {
      violations.add(r.id, `PAID by attempt ${r.paid_attempt_id} which is ${r.paying_attempt_state}`);
    } else if (r.paying_trade_state !== 'paid') {
      violations.add(r.id, `PAID by ${r.paid_attempt_id} whose trade ${r.paying_trade_no} is ${r.paying_trade_state ?? 'missing'} at the bank`);
    }
  }
  return invariantResult('G3', checked, violations.toArray());
}

/**
 * G5: each forged notification of the log is stored, refused and never accepted (found by its
 * exact body, which Paycenter keeps for every notification it receives); no order that received
 * one is PAID without its money at the bank; and no notification was accepted for a trade the
 * bank has not paid. The last looks at every verified notification, forged or not: an accepted
 * one for an unpaid trade can only be a forgery.
 */
export async function checkForgeriesMovedNothing(db: Queryable, log: WorkloadLog): Promise<InvariantResult> {
  const forgeries = new Map<string, { channel: string; outTradeNo: string; sent: number }>();
  for (const f of log.forged) {
    const known = forgeries.get(f.body);
    if (known) known.sent += 1;
    else forgeries.set(f.body, { channel: f.channel, outTradeNo: f.outTradeNo, sent: 1 });
  }
  const violations = new ViolationList();

  const stored = await db.query<{ i: number; refused: number; accepted: number }>(
    `SELECT f.i,
            count(n.id) FILTER (WHERE NOT n.verified)::int AS refused,
            count(n.id) FILTER (WHERE n.verified)::int AS accepted
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS f (channel, body, i)
       LEFT JOIN notifications n ON n.channel = f.channel AND n.body = f.body
      GROUP BY f.i
      ORDER BY f.i`,
    [[...forgeries.values()].map((f) => f.channel), [...forgeries.keys()]],
  );
  const sent = [...forgeries.values()];
  for (const r of stored.rows) {
    const { channel, outTradeNo, sent: times } = sent[r.i - 1]!;
    if (r.accepted > 0) {
      violations.add(outTradeNo, `a forged ${channel} notification was accepted (${r.accepted} verified row(s))`);
    } else if (r.refused < times) {
      violations.add(outTradeNo, `a forged ${channel} notification sent ${times} time(s) was stored refused ${r.refused} time(s)`);
    }
  }

  const paidWithoutMoney = await db.query<{ order_id: string; paid_attempt_id: string | null; out_trade_no: string | null; trade_state: string | null }>(
    `SELECT DISTINCT o.id AS order_id, o.paid_attempt_id, pa.out_trade_no, t.state AS trade_state
       FROM unnest($1::text[], $2::text[]) AS f (channel, out_trade_no)
       JOIN payment_attempts fa ON fa.channel = f.channel AND fa.out_trade_no = f.out_trade_no
       JOIN orders o ON o.id = fa.order_id
       LEFT JOIN payment_attempts pa ON pa.id = o.paid_attempt_id
       LEFT JOIN ${LEDGER} t ON t.channel = pa.channel AND t.out_trade_no = pa.out_trade_no
      WHERE o.state = 'PAID' AND t.state IS DISTINCT FROM 'paid'
      ORDER BY o.id`,
    [log.forged.map((f) => f.channel), log.forged.map((f) => f.outTradeNo)],
  );
  for (const r of paidWithoutMoney.rows) {
    violations.add(
      r.order_id,
      `received forged notifications and is PAID by attempt ${r.paid_attempt_id ?? 'null'} whose trade ${r.out_trade_no ?? '?'} is ${r.trade_state ?? 'missing'} at the bank`,
    );
  }

  const acceptedUnpaid = await db.query<{ id: number; channel: string; out_trade_no: string | null; notification_id: string | null; order_id: string | null; trade_state: string | null }>(
    `SELECT n.id, n.channel, n.out_trade_no, n.notification_id, n.order_id, t.state AS trade_state
       FROM notifications n
       LEFT JOIN ${LEDGER} t ON t.channel = n.channel AND t.out_trade_no = n.out_trade_no
      WHERE n.verified AND n.outcome = 'paid' AND t.state IS DISTINCT FROM 'paid'
      ORDER BY n.id`,
  );
  for (const r of acceptedUnpaid.rows) {
    violations.add(
      r.out_trade_no ?? `notification #${r.id}`,
      `${r.channel} notification #${r.id} (${r.notification_id ?? 'no id'}, order ${r.order_id ?? 'unknown'}) was accepted as paid ` +
        `but the trade is ${r.trade_state ?? 'missing'} at the bank`,
    );
  }
  return invariantResult('G5', log.forged.length, violations.toArray());
}
