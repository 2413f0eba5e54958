// The plain-language status of an order that support reads first ("I paid but my order says
// unpaid"): what the channel last said, whether its notification arrived, what was refused.
// Pure: the console gathers the rows, this decides the sentences.
import type { AttemptState, OrderState } from './states.ts';

const CHANNEL_LABELS: Record<string, string> = { wechatpay: 'WeChat Pay', alipay: 'Alipay', unionpay: 'UnionPay' };

export function channelLabel(channel: string): string {
  return CHANNEL_LABELS[channel] ?? channel;
}

export interface SummaryFacts {
  now: Date;
  order: { state: OrderState; paidAttemptId: string | null; paidAt: Date | null; closedAt: Date | null; expiresAt: Date };
  /** Oldest first. */
  attempts: { id: string; channel: string; outTradeNo: string; state: AttemptState }[];
  /** Calls made to the channels, oldest first. */
  calls: { attemptId: string; operation: string; outcome: string; detail: string | null; at: Date }[];
  /** Notifications received about the order, oldest first. */
  notifications: { verified: boolean; outcome: string | null; refusalReason: string | null; outTradeNo: string | null; at: Date }[];
  /** The reason written with the order's last transition (why it is CLOSED or EXCEPTION). */
  lastOrderReason: string | null;
  /** When Paycenter's scheduled query of the latest attempt runs next, if one is pending. */
  nextQueryAt: Date | null;
}

export interface SummaryLine {
  tone: 'ok' | 'info' | 'problem';
  text: string;
}

/** What a query's outcome means, in words. */
const ANSWER_WORDS: Record<string, string> = {
  paid: 'paid',
  not_paid: 'not paid',
  not_found: 'no such trade',
  closed: 'closed',
  unknown: 'no answer',
};

export function orderStatusSummary(facts: SummaryFacts): SummaryLine[] {
  const lines = [...stateLines(facts), ...secondPaymentLines(facts)];
  const refused = facts.notifications.filter((n) => !n.verified);
  const lastRefused = refused.at(-1);
  if (lastRefused) {
    lines.push({
      tone: 'problem',
      text: `Refused notifications: ${refused.length} (possible forgery) — the last at ${clock(lastRefused.at, facts.now)}: ${lastRefused.refusalReason ?? 'refused'}.`,
    });
  }
  return lines;
}

function stateLines(facts: SummaryFacts): SummaryLine[] {
  const { order, attempts, now } = facts;
  switch (order.state) {
    case 'CREATED':
      return [
        { tone: 'info', text: `Not paid: no payment has been started (the buyer has not chosen a channel). The order expires at ${clock(order.expiresAt, now)}.` },
      ];
    case 'PAID':
      return [paidLine(facts)];
    case 'CLOSED':
      return [{ tone: 'info', text: `Closed at ${clock(order.closedAt, now)}: ${facts.lastOrderReason ?? 'closed'}.` }];
    case 'PAYING':
      return channelWordLines(facts, attempts.at(-1));
    case 'EXCEPTION': {
      if (order.paidAttemptId) {
        const paid = attempts.find((a) => a.id === order.paidAttemptId);
        const label = channelLabel(paid?.channel ?? 'the channel');
        return [
          {
            tone: 'problem',
            text: `Paid at ${clock(order.paidAt, now)} through ${label}, but ${label} does not confirm the payment (${facts.lastOrderReason ?? 'reconciliation'}): take it up with ${label}.`,
          },
        ];
      }
      const why = { tone: 'problem' as const, text: `Needs an operator: ${facts.lastOrderReason ?? 'the payment is unresolved'}. Query the channel, or resolve the exception.` };
      return [why, ...channelWordLines(facts, attempts.at(-1))];
    }
  }
}

function paidLine(facts: SummaryFacts): SummaryLine {
  const { order, now } = facts;
  const paid = facts.attempts.find((a) => a.id === order.paidAttemptId);
  if (!paid) return { tone: 'ok', text: `Paid at ${clock(order.paidAt, now)}.` };
  const label = channelLabel(paid.channel);
  const notified = facts.notifications.find((n) => n.verified && n.outcome === 'paid' && n.outTradeNo === paid.outTradeNo);
  const queried = facts.calls.find((c) => c.attemptId === paid.id && c.operation === 'query' && c.outcome === 'paid');
  const how = notified
    ? ` — notification verified at ${clock(notified.at, now)}`
    : queried
      ? ` — confirmed by ${label}'s answer to a query at ${clock(queried.at, now)}; no verified notification arrived`
      : '';
  return { tone: 'ok', text: `Paid at ${clock(order.paidAt, now)} through ${label}${how}.` };
}

/** An unpaid order's latest attempt: the channel's last answer to a query, and its notifications. */
function channelWordLines(facts: SummaryFacts, attempt: SummaryFacts['attempts'][number] | undefined): SummaryLine[] {
  const { now } = facts;
  if (!attempt) return [{ tone: 'info', text: 'No payment attempt was made.' }];
  const label = channelLabel(attempt.channel);
  const query = facts.calls.filter((c) => c.attemptId === attempt.id && c.operation === 'query').at(-1);
  const lines: SummaryLine[] = [];
  if (!query) {
    lines.push({ tone: 'info', text: `${label} has not been queried about this payment yet.` });
  } else {
    const at = clock(query.at, now);
    const said = `query: ${ANSWER_WORDS[query.outcome] ?? query.outcome}${query.detail ? `, ${query.detail}` : ''}`;
    const text: Record<string, SummaryLine> = {
      not_paid: { tone: 'info', text: `The buyer has not paid according to ${label}'s last answer at ${at} (${said}).` },
      not_found: { tone: 'info', text: `${label} did not know the trade at its last answer at ${at} (${said}): the buyer has not opened or paid it.` },
      closed: { tone: 'info', text: `${label} reported the trade closed at its last answer at ${at} (${said}): it can no longer be paid.` },
      paid: { tone: 'ok', text: `${label} reported the payment at ${at} (${said}).` },
    };
    lines.push(text[query.outcome] ?? { tone: 'problem', text: `${label} did not answer the last query at ${at} (${said}): whether the buyer paid is not known yet.` });
  }
  const notified = facts.notifications.filter((n) => n.verified && n.outTradeNo === attempt.outTradeNo && !n.outcome?.startsWith('refund_')).at(-1);
  lines.push(
    notified
      ? { tone: 'info', text: `The last verified notification from ${label} arrived at ${clock(notified.at, now)} (${ANSWER_WORDS[notified.outcome ?? ''] ?? notified.outcome}).` }
      : { tone: 'info', text: `No notification has arrived from ${label} about this payment.` },
  );
  if (facts.nextQueryAt) {
    lines.push({ tone: 'info', text: `Paycenter asks ${label} by itself at ${clock(facts.nextQueryAt, now)}; "Query channel" asks now.` });
  }
  return lines;
}

/** A payment taken besides the one the order counts (a duplicate, or one after the close): returned in full. */
function secondPaymentLines(facts: SummaryFacts): SummaryLine[] {
  return facts.attempts
    .filter((a) => a.state === 'SUCCEEDED' && a.id !== facts.order.paidAttemptId)
    .map((a) => ({
      tone: 'problem' as const,
      text: `A ${facts.order.state === 'PAID' ? 'second' : 'late'} payment was taken through ${channelLabel(a.channel)} (${a.outTradeNo}); it is refunded to the buyer automatically (see Refunds).`,
    }));
}

/** HH:MM UTC, with the day when it is not today's. */
function clock(at: Date | null, now: Date): string {
  if (!at) return 'an unknown time';
  const iso = at.toISOString();
  const day = iso.slice(0, 10);
  return `${day === now.toISOString().slice(0, 10) ? '' : `${day} `}${iso.slice(11, 16)} UTC`;
}
