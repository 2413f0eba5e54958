// One delivery of a UnionPay backUrl notification (channels.md §3.5): the stored URL-encoded form,
// signed once when the buyer paid, so every retry carries the same bytes; HTTP 200 or 302
// acknowledges. The schedule, leases and faults are the shared Notifier's (../notifier.ts).
import { formNotificationSender } from '../form-notification.ts';
import type { NotifierOptions } from '../notifier.ts';

/**
 * The delays before each retry at timeScale 1: 5 sends in total, retried after 1, 2, 4 and 5
 * minutes. The brief has two versions (§3.5, §5 item 7); this one is the older demo comment's,
 * also in smartwalle/unionpay: two sources, and its four intervals between five sends add up.
 * The newer "0, 1, 2, 4" names four numbers for five sends and would send twice at once.
 */
export const UNIONPAY_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000, 240_000, 300_000];
/** UnionPay's limit for the merchant's answer (§3.5). */
export const UNIONPAY_NOTIFY_TIMEOUT_MS = 10_000;

/** The demo comments accept 302 as well as 200 (§3.5); the brief leaves 302 unconfirmed, so the sandbox is lenient. */
const ACKNOWLEDGING_STATUSES: readonly number[] = [200, 302];

/** A probe is the same form with one bit of the signature flipped: a correct receiver refuses it. */
export const sendUnionpayNotification: NotifierOptions['send'] = formNotificationSender({
  contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
  userAgent: 'paycenter-sandbox-unionpay',
  signatureField: 'signature',
  judge: (answer) => ({ acknowledged: ACKNOWLEDGING_STATUSES.includes(answer.status), description: `HTTP ${answer.status}` }),
});
