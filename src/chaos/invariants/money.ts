// G1, G3 and G5: the sandbox bank's ledgers and refunds (one view of each per simulated channel,
// in the same database) against Paycenter's orders, attempts, refunds and notifications. The bank
// is the truth about money: Paycenter must know every payment the bank took (G1), every order must
// keep exactly what it should once refunds are counted (G3), and no forged notification may move
// anything (G5).
import type { Queryable } from '../../store/db.ts';
import type { InvariantResult, WorkloadLog } from '../types.ts';
import { ofEveryBank } from '../banks.ts';
import { countOf, invariantResult, ViolationList } from './result.ts';

/** Every refund the banks made: (channel, mch_id, out_trade_no, out_refund_no, amount, …) of their succeeded refunds. */
const BANK_REFUNDS_SUCCEEDED = `(SELECT * FROM ${ofEveryBank('refunds')} br WHERE state = 'succeeded')`;

/**
 * Every trade of every simulated channel: (channel, mch_id, out_trade_no, transaction_id, state
 * paid|not_paid|closed, amount, currency), plus `refunded` (its succeeded refunds at the bank) and
 * `was_paid`. A bank refunds only paid trades, so a trade with a succeeded refund was paid even
 * when its state no longer says so (Alipay closes a trade refunded in full). Trades join attempts
 * on (channel, out_trade_no).
 */
const TRADES = `(SELECT l.*, coalesce(r.refunded, 0) AS refunded, l.state = 'paid' OR r.refunded IS NOT NULL AS was_paid
                   FROM ${ofEveryBank('ledger')} l
                   LEFT JOIN (SELECT channel, mch_id, out_trade_no, sum(amount)::bigint AS refunded
                                FROM ${BANK_REFUNDS_SUCCEEDED} br GROUP BY 1, 2, 3) r
                          USING (channel, mch_id, out_trade_no))`;

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

/**
 * G1: every trade the bank was paid is a SUCCEEDED attempt, and either its order is PAID by it or
 * Paycenter is handing it back (an automatic refund of a duplicate or late payment; G3 checks it
 * went back in full).
 */
export async function checkNoLostPayment(db: Queryable): Promise<InvariantResult> {
  const checked = await countOf(db, `SELECT count(*)::int AS n FROM ${TRADES} t WHERE was_paid`);
  // coalesce: a trade with no attempt makes the condition NULL, and NOT NULL would hide it.
  const { rows } = await db.query<UnaccountedTrade>(
    `SELECT t.channel, t.out_trade_no, t.transaction_id, a.id AS attempt_id, a.state AS attempt_state,
            o.id AS order_id, o.state AS order_state, o.paid_attempt_id
       FROM ${TRADES} t
       LEFT JOIN payment_attempts a ON a.channel = t.channel AND a.out_trade_no = t.out_trade_no
       LEFT JOIN orders o ON o.id = a.order_id
      WHERE t.was_paid
        AND NOT coalesce(a.state = 'SUCCEEDED'
                         AND ((o.state = 'PAID' AND o.paid_attempt_id = a.id)
                              OR EXISTS (SELECT 1 FROM refunds r WHERE r.attempt_id = a.id AND r.kind <> 'merchant')), false)
      ORDER BY t.out_trade_no`,
  );
  const violations = rows.map((r) => ({
    id: r.out_trade_no,
    detail:
      r.attempt_id === null
        ? `paid at the bank (transaction ${r.transaction_id}) but Paycenter has no ${r.channel} attempt with this out_trade_no`
        : `paid at the bank (transaction ${r.transaction_id}); attempt ${r.attempt_id} is ${r.attempt_state}, ` +
          `order ${r.order_id} is ${r.order_state} with paid_attempt_id ${r.paid_attempt_id ?? 'null'}, and no automatic refund`,
  }));
  return invariantResult('G1', checked, violations);
}

interface OrderMoney {
  id: string;
  state: string;
  amount_minor: string;
  paid_attempt_id: string | null;
  merchant_refunded: string;
  collected: string;
  refunded_at_bank: string;
  paying_attempt_state: string | null;
  paying_trade_no: string | null;
  paying_trade_paid: boolean | null;
  unreturned: string[];
}

/**
 * G3, per order of the app: what the bank collected minus what it refunded, over all the order's
 * trades, is the order amount minus its SUCCEEDED merchant refunds when PAID, and zero otherwise;
 * a PAID order's paying attempt is SUCCEEDED and paid at the bank; every other SUCCEEDED attempt
 * (a duplicate or late payment) went back in full by a SUCCEEDED automatic refund. Then, over every
 * refund: the banks' succeeded refunds and Paycenter's SUCCEEDED ones are the same, amount for
 * amount; and every refund the API accepted is stored as it was answered.
 */
export async function checkMoneyKept(db: Queryable, appId: string, log: WorkloadLog): Promise<InvariantResult> {
  const checked = await countOf(db, 'SELECT count(*)::int AS n FROM orders WHERE app_id = $1', [appId]);
  // Sums are bigint, read as text: compared here as BigInt, never as floats.
  const { rows } = await db.query<OrderMoney>(
    `WITH attempts AS (
       SELECT a.*, t.was_paid, CASE WHEN t.was_paid THEN t.amount ELSE 0 END AS collected, coalesce(t.refunded, 0) AS refunded_at_bank,
              EXISTS (SELECT 1 FROM refunds r
                       WHERE r.attempt_id = a.id AND r.kind <> 'merchant' AND r.state = 'SUCCEEDED' AND r.amount_minor = a.amount_minor) AS returned
         FROM payment_attempts a
         LEFT JOIN ${TRADES} t ON t.channel = a.channel AND t.out_trade_no = a.out_trade_no
     ), per_order AS (
       SELECT o.id, o.state, o.amount_minor, o.paid_attempt_id,
              (SELECT coalesce(sum(r.amount_minor), 0) FROM refunds r
                WHERE r.order_id = o.id AND r.kind = 'merchant' AND r.state = 'SUCCEEDED')::text AS merchant_refunded,
              coalesce(sum(a.collected), 0)::text AS collected,
              coalesce(sum(a.refunded_at_bank), 0)::text AS refunded_at_bank,
              max(a.state) FILTER (WHERE a.id = o.paid_attempt_id) AS paying_attempt_state,
              max(a.out_trade_no) FILTER (WHERE a.id = o.paid_attempt_id) AS paying_trade_no,
              bool_or(a.was_paid) FILTER (WHERE a.id = o.paid_attempt_id) AS paying_trade_paid,
              coalesce(array_agg(a.id ORDER BY a.created_at, a.id)
                         FILTER (WHERE a.state = 'SUCCEEDED' AND a.id IS DISTINCT FROM o.paid_attempt_id AND NOT a.returned), '{}') AS unreturned
         FROM orders o
         LEFT JOIN attempts a ON a.order_id = o.id
        WHERE o.app_id = $1
        GROUP BY o.id
     )
     SELECT * FROM per_order
      WHERE collected::bigint - refunded_at_bank::bigint
              <> CASE WHEN state = 'PAID' THEN amount_minor - merchant_refunded::bigint ELSE 0 END
         OR cardinality(unreturned) > 0
         OR (state = 'PAID' AND (paying_attempt_state IS DISTINCT FROM 'SUCCEEDED' OR paying_trade_paid IS NOT TRUE))
      ORDER BY id`,
    [appId],
  );
  const violations = new ViolationList();
  for (const r of rows) {
    const kept = BigInt(r.collected) - BigInt(r.refunded_at_bank);
    const expected = r.state === 'PAID' ? BigInt(r.amount_minor) - BigInt(r.merchant_refunded) : 0n;
    if (kept !== expected) {
      violations.add(
        r.id,
        `${r.state}: the bank collected ${r.collected} and refunded ${r.refunded_at_bank}, keeping ${kept}; it should keep ${expected}` +
          (r.state === 'PAID' ? ` (amount ${r.amount_minor} − merchant refunds ${r.merchant_refunded})` : ''),
      );
    }
    if (r.unreturned.length > 0) violations.add(r.id, `SUCCEEDED attempt(s) ${r.unreturned.join(', ')} not the paying one and not refunded in full`);
    if (r.state !== 'PAID') continue;
    if (r.paying_attempt_state === null) {
      violations.add(r.id, `PAID by attempt ${r.paid_attempt_id ?? 'null'}, which is not one of its attempts`);
    } else if (r.paying_attempt_state !== 'SUCCEEDED') {
      violations.add(r.id, `PAID by attempt ${r.paid_attempt_id} which is ${r.paying_attempt_state}`);
    } else if (!r.paying_trade_paid) {
      violations.add(r.id, `PAID by ${r.paid_attempt_id} whose trade ${r.paying_trade_no} was never paid at the bank`);
    }
  }
  await checkRefundsAgree(db, violations);
  await checkAcceptedRefundsStored(db, log, violations);
  return invariantResult('G3', checked, violations.toArray());
}

/** The banks' succeeded refunds and Paycenter's SUCCEEDED ones, matched by refund number: each on both sides, same amount. */
async function checkRefundsAgree(db: Queryable, violations: ViolationList): Promise<void> {
  const { rows } = await db.query<{ out_refund_no: string; bank: string | null; local: string | null; refund_id: string | null; local_state: string | null }>(
    `WITH bank AS (SELECT out_refund_no, amount FROM ${BANK_REFUNDS_SUCCEEDED} br),
          local AS (SELECT id, out_refund_no, amount_minor, state FROM refunds WHERE state = 'SUCCEEDED')
     SELECT coalesce(b.out_refund_no, l.out_refund_no) AS out_refund_no, b.amount::text AS bank, l.amount_minor::text AS local,
            l.id AS refund_id, (SELECT state FROM refunds WHERE out_refund_no = b.out_refund_no) AS local_state
       FROM bank b FULL JOIN local l ON l.out_refund_no = b.out_refund_no
      WHERE b.amount IS DISTINCT FROM l.amount_minor
      ORDER BY 1`,
  );
  for (const r of rows) {
    if (r.local === null) {
      violations.add(r.out_refund_no, `refunded ${r.bank} at the bank; Paycenter's refund is ${r.local_state ?? 'unknown'}`);
    } else if (r.bank === null) {
      violations.add(r.out_refund_no, `refund ${r.refund_id} SUCCEEDED for ${r.local} but the bank has no succeeded refund`);
    } else {
      violations.add(r.out_refund_no, `refund ${r.refund_id} SUCCEEDED for ${r.local} but the bank refunded ${r.bank}`);
    }
  }
}

/** Every refund the API answered 200 or 201 is stored as answered: that id, order, number and amount. */
async function checkAcceptedRefundsStored(db: Queryable, log: WorkloadLog, violations: ViolationList): Promise<void> {
  const accepted = log.refunds.filter((a) => a.refundId !== undefined);
  const { rows } = await db.query<{ i: number; stored: boolean }>(
    `SELECT x.i, EXISTS (SELECT 1 FROM refunds r
                          WHERE r.id = x.refund_id AND r.order_id = x.order_id AND r.merchant_refund_no = x.number
                            AND r.amount_minor = x.amount) AS stored
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS x (refund_id, order_id, number, amount, i)`,
    [accepted.map((a) => a.refundId), accepted.map((a) => a.orderId), accepted.map((a) => a.merchantRefundNo), accepted.map((a) => a.amount)],
  );
  for (const r of rows) {
    if (r.stored) continue;
    const a = accepted[r.i - 1]!;
    violations.add(
      a.orderId,
      `refund ${a.merchantRefundNo} of ${a.amount}${a.replay ? ` (a replay, ${a.replay} body)` : ''} was answered ${a.status} as ${a.refundId}, which is not stored so`,
    );
  }
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
       LEFT JOIN ${TRADES} t ON t.channel = pa.channel AND t.out_trade_no = pa.out_trade_no
      WHERE o.state = 'PAID' AND t.was_paid IS NOT TRUE
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
       LEFT JOIN ${TRADES} t ON t.channel = n.channel AND t.out_trade_no = n.out_trade_no
      WHERE n.verified AND n.outcome = 'paid' AND t.was_paid IS NOT TRUE
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
