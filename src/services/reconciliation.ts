// Daily reconciliation: one channel's bill for one Beijing day against Paycenter's records. Every
// difference is stored with what was done about it; a payment the channel has and we do not is
// settled through the normal query path, never by writing PAID here.
import { withTransaction } from '../store/db.ts';
import { addJob } from '../store/jobs.ts';
import { listAttempts, lockOrder } from '../store/orders.ts';
import {
  failReconciliation,
  finishReconciliation,
  findReconciliation,
  insertReconciliation,
  listDifferences,
  listReconciliations,
  loadLocalRecords,
  type ActedDifference,
  type DifferenceRow,
  type ReconciliationRow,
} from '../store/reconciliations.ts';
import {
  beijingDate,
  beijingDayWindow,
  compareBill,
  countByClass,
  isBillDate,
  plannedAction,
  type Difference,
  type DifferenceAction,
  type LocalRecords,
} from '../domain/reconciliation.ts';
import { PaycenterError } from '../domain/errors.ts';
import { firstQueryAt } from '../domain/schedule.ts';
import { newId } from '../domain/ids.ts';
import type { BillLine } from '../channels/types.ts';
import { queryJob, queryNowJob } from './active-query.ts';
import { refundQueryNowJob } from './refunds.ts';
import { emitEvent, moveOrder } from './state-change.ts';
import type { ServiceContext } from './context.ts';

export const RECONCILE_CHANNELS_TASK = 'reconcile_channels';
export const RECONCILE_CHANNEL_DAY_TASK = 'reconcile_channel_day';
export const RECONCILIATIONS_PAGE_MAX = 100;

export interface ReconciliationView {
  id: string;
  channel: string;
  date: string;
  state: ReconciliationRow['state'];
  summary: ReconciliationRow['summary'];
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export type ReconciliationWithDifferences = ReconciliationView & { differences: DifferenceView[] };

export type DifferenceView = Omit<DifferenceRow, 'id'>;

/**
 * Reconciles `channel`'s bill of the Beijing day `date` (yyyy-MM-dd, today at the latest). A bill
 * the channel cannot give (not ready yet, no answer) ends the report FAILED with the reason.
 */
export async function reconcileChannelDay(ctx: ServiceContext, channelName: string, date: string): Promise<ReconciliationWithDifferences> {
  const channel = ctx.channels.get(channelName);
  if (!channel) {
    throw new PaycenterError('channel_not_configured', `channel: ${channelName} is not configured here; configured: ${[...ctx.channels.keys()].join(', ')}.`, {
      field: 'channel',
    });
  }
  if (!isBillDate(date) || date > beijingDate(ctx.now())) {
    throw new PaycenterError('invalid_request', 'date: a calendar day as yyyy-MM-dd, Beijing time, today at the latest.', { field: 'date' });
  }
  const report = await insertReconciliation(ctx.pool, { id: newId('rec'), channel: channelName, billDate: date });
  const log = ctx.log.child({ reconciliationId: report.id, channel: channelName, date });
  try {
    const bill = await channel.fetchBill(date);
    if (bill.kind !== 'bill') {
      await failReport(ctx, report.id, `${bill.kind}: ${bill.reason}`);
      return await getReconciliationReport(ctx, report.id);
    }
    const local = await loadLocalRecords(ctx.pool, channelName, beijingDayWindow(date), billedNumbers(bill.lines));
    const differences = compareBill(bill.lines, local);
    const acted: ActedDifference[] = [];
    for (const difference of differences) {
      const action = await actOn(ctx, difference, local);
      ctx.metrics.reconciliationDifferences.inc({ channel: channelName, class: difference.class });
      // A payment we hold that the channel's bill lacks is alerted too, besides its EXCEPTION.
      if (action === 'alert' || action === 'order_exception') {
        log.error({ difference: alertFields(difference), action }, 'reconciliation difference: an operator must look at it');
      }
      acted.push({ difference, action });
    }
    const summary = {
      billLines: bill.lines.length,
      localPayments: local.attempts.filter((a) => a.state === 'SUCCEEDED').length,
      localRefunds: local.refunds.length,
      differences: countByClass(differences),
    };
    const done = await withTransaction(ctx.pool, (tx) => finishReconciliation(tx, report.id, summary, acted));
    if (!done) throw new Error(`reconciliation ${report.id} left RUNNING while it ran`);
    log.info({ differences: differences.length }, 'reconciliation done');
    return await getReconciliationReport(ctx, report.id);
  } catch (err) {
    await failReport(ctx, report.id, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

async function failReport(ctx: ServiceContext, id: string, reason: string): Promise<void> {
  if (await failReconciliation(ctx.pool, id, reason)) ctx.log.error({ reconciliationId: id, reason }, 'reconciliation failed');
}

function billedNumbers(lines: readonly BillLine[]): { outTradeNos: string[]; outRefundNos: string[] } {
  return {
    outTradeNos: lines.filter((l) => l.kind === 'payment').map((l) => l.outTradeNo),
    outRefundNos: lines.flatMap((l) => (l.kind === 'refund' && l.outRefundNo ? [l.outRefundNo] : [])),
  };
}

async function actOn(ctx: ServiceContext, d: Difference, local: LocalRecords): Promise<DifferenceAction> {
  const planned = plannedAction(d, local.attempts.find((a) => a.id === d.attemptId));
  switch (planned) {
    case 'query_enqueued':
      await addJob(ctx.pool, queryNowJob(d.attemptId!));
      return planned;
    case 'refund_query_enqueued':
      await addJob(ctx.pool, refundQueryNowJob(d.refundId!));
      return planned;
    case 'order_exception':
      return (await moveToException(ctx, d)) ? planned : 'alert';
    case 'alert':
      return planned;
  }
}

/**
 * Paid here, absent from the channel's bill: the order is no longer trusted as PAID. It goes to
 * EXCEPTION with its audit row and event, and the attempt is queried; the query's answer makes it
 * PAID again or leaves it for an operator. False when the order was no longer PAID by it.
 */
async function moveToException(ctx: ServiceContext, d: Difference): Promise<boolean> {
  return withTransaction(ctx.pool, async (tx) => {
    const order = await lockOrder(tx, d.orderId!);
    if (order?.state !== 'PAID' || order.paidAttemptId !== d.attemptId) return false;
    const exception = await moveOrder(tx, order, 'EXCEPTION', `reconciliation: ${d.outTradeNo} paid here but absent from the channel's bill`);
    await emitEvent(ctx, tx, exception, 'order.exception', await listAttempts(tx, order.id));
    // The query chain from its first step, not a one-off: while the channel does not answer, an
    // EXCEPTION order keeps being asked on the exception interval.
    await addJob(tx, queryJob(d.attemptId!, 0, firstQueryAt(ctx.settings.queryPolicy, ctx.now(), order.expiresAt)));
    return true;
  });
}

/** What an operator needs to find the difference; numbers and amounts only, nothing secret. */
function alertFields(d: Difference): Record<string, unknown> {
  return { class: d.class, outTradeNo: d.outTradeNo, outRefundNo: d.outRefundNo, orderId: d.orderId, channel: d.channelSide, local: d.localSide };
}

export async function listReconciliationReports(
  ctx: ServiceContext,
  filter: { channel?: string; before?: string },
  limit: number,
): Promise<{ data: ReconciliationView[]; hasMore: boolean }> {
  const before = filter.before === undefined ? null : await findReconciliation(ctx.pool, filter.before);
  if (filter.before !== undefined && !before) {
    throw new PaycenterError('invalid_request', `before: no reconciliation ${filter.before}; pass the last id of the previous page.`, {
      field: 'before',
    });
  }
  const rows = await listReconciliations(ctx.pool, { channel: filter.channel ?? null, before }, limit + 1);
  return { data: rows.slice(0, limit).map(reconciliationView), hasMore: rows.length > limit };
}

export async function getReconciliationReport(ctx: ServiceContext, id: string): Promise<ReconciliationWithDifferences> {
  const row = await findReconciliation(ctx.pool, id);
  if (!row) throw new PaycenterError('not_found', `No reconciliation ${id}.`);
  const differences = await listDifferences(ctx.pool, id);
  return { ...reconciliationView(row), differences: differences.map(({ id: _id, ...rest }) => rest) };
}

/**
 * The cron task: yesterday's bill (Beijing) of every configured channel, one job per channel so a
 * bill that is not ready is retried alone.
 */
export async function enqueueYesterdaysReconciliations(ctx: ServiceContext): Promise<void> {
  const date = beijingDate(ctx.now(), 1);
  for (const channel of ctx.channels.keys()) {
    await addJob(ctx.pool, { task: RECONCILE_CHANNEL_DAY_TASK, payload: { channel, date }, jobKey: `reconcile:${channel}:${date}` });
  }
}

/** One channel-day as a job: throws when the report FAILED, so graphile-worker retries with back-off. */
export async function runReconcileChannelDay(ctx: ServiceContext, payload: { channel: string; date: string }): Promise<void> {
  const report = await reconcileChannelDay(ctx, payload.channel, payload.date);
  if (report.state === 'FAILED') throw new Error(`reconciliation of ${payload.channel} ${payload.date} failed: ${report.error}`);
}

function reconciliationView(r: ReconciliationRow): ReconciliationView {
  return {
    id: r.id,
    channel: r.channel,
    date: r.billDate,
    state: r.state,
    summary: r.summary,
    error: r.error,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}
