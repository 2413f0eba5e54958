// `paycenter reconcile --channel … --date …`: one reconciliation against the configured database
// and channels, printed for a person. The exit status says what it found.
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { reconcileChannelDay, type ReconciliationWithDifferences } from '../services/reconciliation.ts';
import { startPaycenter } from './start.ts';

export const RECONCILE_EXIT = { clean: 0, differences: 1, failed: 2 } as const;

/** Prints the report; 0 when the bill and Paycenter agree, 1 with differences, 2 when it could not reconcile. */
export async function runReconcileCommand(config: Config, log: Logger, channel: string, date: string): Promise<number> {
  try {
    // The same start-up as `serve` (channels, and the sandbox when simulated), on a port of its own
    // and without a job runner: the queries it queues are run by the serving processes.
    const running = await startPaycenter({ ...config, port: 0 }, log, 'api');
    try {
      const report = await reconcileChannelDay(running.ctx, channel, date);
      console.log(formatReconciliation(report));
      if (report.state !== 'DONE') return RECONCILE_EXIT.failed;
      return report.differences.length > 0 ? RECONCILE_EXIT.differences : RECONCILE_EXIT.clean;
    } finally {
      await running.stop();
    }
  } catch (err) {
    console.error(`paycenter: ${err instanceof Error ? err.message : String(err)}`);
    return RECONCILE_EXIT.failed;
  }
}

export function formatReconciliation(r: ReconciliationWithDifferences): string {
  const lines = [`Reconciliation ${r.id}: ${r.channel} ${r.date} (Beijing) — ${r.state}`];
  if (r.error) lines.push(`  error: ${r.error}`);
  if (r.summary) {
    const { billLines, localPayments, localRefunds, differences } = r.summary;
    const found = Object.entries(differences).filter(([, n]) => n > 0);
    lines.push(`  bill lines ${billLines}, local payments ${localPayments}, local refunds ${localRefunds}`);
    lines.push(`  differences: ${found.length === 0 ? 'none' : found.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  }
  for (const d of r.differences) {
    const names = [d.outTradeNo && `trade ${d.outTradeNo}`, d.outRefundNo && `refund ${d.outRefundNo}`, d.orderId && `order ${d.orderId}`];
    const bill = d.channelSide ? `${d.channelSide.amountMinor} fen ${d.channelSide.currency}${d.channelSide.refundStatus ? ` ${d.channelSide.refundStatus}` : ''}` : 'absent';
    const local = d.localSide ? `${d.localSide.amountMinor} fen ${d.localSide.currency} ${d.localSide.state}` : 'absent';
    lines.push(`  ${d.class}  ${names.filter(Boolean).join('  ')}  bill: ${bill}  local: ${local}  → ${d.action}`);
  }
  return lines.join('\n');
}
