// The invariant check `paycenter chaos` runs once the system is quiet: it reads the databases
// themselves (Paycenter's, the sandbox ledger's schema in it, and the business receiver's) and judges
// G1–G6 with a few set-based queries each, so 10,000+ orders take seconds, not a round trip per row.
//
// Scope: G2, G3 and G4 look at the app's orders and events; G1, G5 and G6, and G3's matching of
// refunds with the banks', at the whole database, because money at the bank, notifications and
// the audit belong to no app.
import type { Queryable } from '../store/db.ts';
import { EFFECTS_TABLE, INBOX_TABLE, PURCHASE_METADATA_KEY, type InvariantResult, type WorkloadLog } from './types.ts';
import { checkAudit } from './invariants/audit.ts';
import { checkForgeriesMovedNothing, checkMoneyKept, checkNoLostPayment } from './invariants/money.ts';
import { countOf, invariantResult, ViolationList } from './invariants/result.ts';

export interface InvariantDatabases {
  paycenter: Queryable;
  business: Queryable;
}

/** One result per guarantee, G1 to G6 in order. Run it only once nothing writes any more. */
export async function checkInvariants(dbs: InvariantDatabases, log: WorkloadLog, opts: { appId: string }): Promise<InvariantResult[]> {
  // One after another: a caller may pass a single client (e.g. inside a transaction).
  return [
    await checkNoLostPayment(dbs.paycenter),
    await checkOneOrderPerPurchase(dbs.paycenter, opts.appId),
    await checkMoneyKept(dbs.paycenter, opts.appId, log),
    await checkEffectsExactlyOnce(dbs, opts.appId),
    await checkForgeriesMovedNothing(dbs.paycenter, log),
    await checkAudit(dbs.paycenter),
  ];
}

/** G2: the app's orders grouped by the workload's purchase key; a purchase with two orders is a duplicate. */
async function checkOneOrderPerPurchase(db: Queryable, appId: string): Promise<InvariantResult> {
  const purchased = 'FROM orders WHERE app_id = $1 AND metadata->>$2 IS NOT NULL';
  const checked = await countOf(db, `SELECT count(DISTINCT metadata->>$2)::int AS n ${purchased}`, [appId, PURCHASE_METADATA_KEY]);
  const { rows } = await db.query<{ purchase: string; order_ids: string[] }>(
    `SELECT metadata->>$2 AS purchase, array_agg(id ORDER BY created_at, id) AS order_ids
       ${purchased}
      GROUP BY 1 HAVING count(*) > 1
      ORDER BY 1`,
    [appId, PURCHASE_METADATA_KEY],
  );
  const violations = rows.map((r) => ({ id: r.purchase, detail: `${r.order_ids.length} orders: ${r.order_ids.join(', ')}` }));
  return invariantResult('G2', checked, violations);
}

/**
 * G4: every event of the app is in the receiver's inbox and has exactly one effects row; an inbox or
 * effects row for an event Paycenter never wrote is wrong too. The two sides live in different
 * databases, so each side's ids are read once and compared here. An order's outcome is announced
 * once: at most one order.paid and one order.closed per order (a second one, under a new event id,
 * would make the business ship twice however well it dedupes ids).
 */
async function checkEffectsExactlyOnce(dbs: InvariantDatabases, appId: string): Promise<InvariantResult> {
  const events = await dbs.paycenter.query<{ id: string; order_id: string; type: string }>(
    'SELECT id, order_id, type FROM events WHERE app_id = $1 ORDER BY position',
    [appId],
  );
  const inbox = await dbs.business.query<{ event_id: string }>(`SELECT event_id FROM ${INBOX_TABLE}`);
  const effects = await dbs.business.query<{ event_id: string; n: number }>(
    `SELECT event_id, count(*)::int AS n FROM ${EFFECTS_TABLE} GROUP BY event_id`,
  );
  const inboxIds = new Set(inbox.rows.map((r) => r.event_id));
  const effectCounts = new Map(effects.rows.map((r) => [r.event_id, r.n]));
  const known = new Set<string>();
  const violations = new ViolationList();
  const outcomes = new Map<string, number>();
  for (const e of events.rows) {
    known.add(e.id);
    if (e.type === 'order.paid' || e.type === 'order.closed') {
      const key = `${e.order_id} ${e.type}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (outcomes.get(key) === 2) violations.add(e.order_id, `${e.type} was announced more than once`);
    }
    const what = `${e.type} of order ${e.order_id}`;
    if (!inboxIds.has(e.id)) violations.add(e.id, `${what} is not in the receiver's inbox`);
    const applied = effectCounts.get(e.id) ?? 0;
    if (applied !== 1) violations.add(e.id, `${what} was applied ${applied} times`);
  }
  for (const id of inboxIds) {
    if (!known.has(id)) violations.add(id, 'in the receiver\'s inbox but not an event of the app');
  }
  for (const [id, n] of effectCounts) {
    if (!known.has(id)) violations.add(id, `${n} effects row(s) for an event that is not an event of the app`);
  }
  return invariantResult('G4', events.rows.length, violations.toArray());
}

/** Violations listed per invariant below the table; the rest are counted. */
const VIOLATIONS_LISTED_MAX = 20;

/** The results as a plain-text table (no colours: it goes to logs and CI output too), then the violations. */
export function formatInvariantTable(results: InvariantResult[]): string {
  const header = ['invariant', 'title', 'checked', 'violations', 'result'];
  const body = results.map((r) => [r.name, r.title, String(r.checked), String(r.violations.length), r.violations.length === 0 ? 'OK' : 'VIOLATED']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  // Counts are right-aligned so their digits line up.
  const numeric = new Set([2, 3]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  for (const r of results) {
    if (r.violations.length === 0) continue;
    out.push('', `${r.name} violations (${r.violations.length}):`);
    for (const v of r.violations.slice(0, VIOLATIONS_LISTED_MAX)) out.push(`  ${v.id}  ${v.detail}`);
    const more = r.violations.length - VIOLATIONS_LISTED_MAX;
    if (more > 0) out.push(`  … and ${more} more`);
  }
  return out.join('\n');
}
