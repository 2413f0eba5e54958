// The last word of a chaos run (R): once the system is quiet and G1–G6 are judged, each channel's
// bill of the run's Beijing day(s) is reconciled through the API, as an operator would. Everything
// is settled by then, so any difference, or a report that is not DONE, is a violation.
import { CHANNEL_NAMES } from '../domain/channels.ts';
import { beijingDate } from '../domain/reconciliation.ts';
import { invariantResult, ViolationList } from './invariants/result.ts';
import type { InvariantResult } from './types.ts';

const REQUEST_TIMEOUT_MS = 60_000;
const TRIES_MAX = 5;
const RETRY_PAUSE_MS = 1_000;

interface Report {
  state: string;
  error: string | null;
  summary: { billLines: number } | null;
  differences: { class: string; outTradeNo: string | null; outRefundNo: string | null; orderId: string | null; action: string }[];
}

/** The Beijing days a run touched: the day it started and, if it crossed midnight there, the day it ended. */
export function runDays(startedAt: Date, endedAt: Date): string[] {
  return [...new Set([beijingDate(startedAt), beijingDate(endedAt)])];
}

/** R: one reconciliation per channel and day; checked counts the bill lines compared. */
export async function reconcileRun(baseUrl: () => string | undefined, apiKey: string, days: readonly string[]): Promise<InvariantResult> {
  const violations = new ViolationList();
  let billLines = 0;
  for (const date of days) {
    for (const channel of CHANNEL_NAMES) {
      const where = `${channel} ${date}`;
      const answer = await requestReconciliation(baseUrl, apiKey, channel, date);
      if (typeof answer === 'string') {
        violations.add(where, answer);
        continue;
      }
      billLines += answer.summary?.billLines ?? 0;
      if (answer.state !== 'DONE') violations.add(where, `report is ${answer.state}: ${answer.error ?? 'no error given'}`);
      for (const d of answer.differences) {
        violations.add(d.outRefundNo ?? d.outTradeNo ?? d.orderId ?? where, `${where}: ${d.class} (order ${d.orderId ?? 'unknown'}, action ${d.action})`);
      }
    }
  }
  return invariantResult('R', billLines, violations.toArray());
}

/** The report, or why there is none. A dead instance or a 5xx is tried again, on whichever instance is up. */
async function requestReconciliation(baseUrl: () => string | undefined, apiKey: string, channel: string, date: string): Promise<Report | string> {
  let failure = 'no instance up';
  for (let i = 0; i < TRIES_MAX; i++) {
    const base = baseUrl();
    if (base) {
      try {
        const res = await fetch(`${base}/v1/reconciliations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({ channel, date }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await res.text();
        if (res.status === 201) return JSON.parse(text) as Report;
        failure = `POST /v1/reconciliations answered ${res.status}: ${text.slice(0, 500)}`;
        if (res.status < 500) return failure;
      } catch (err) {
        failure = `POST /v1/reconciliations failed: ${String(err)}`;
      }
    }
    await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS * (i + 1)));
  }
  return failure;
}
