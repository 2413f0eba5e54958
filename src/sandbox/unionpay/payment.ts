// The buyer pays a trade, from the cashier's Pay button or /sandbox/pay: the trade becomes PAID and
// its backUrl notification is enqueued in one statement, then sent by the shared Notifier.
import type { Logger } from '../../logger.ts';
import type { PayRefusal } from '../channel.ts';
import type { Notifier } from '../notifier.ts';
import type { AcpFields } from './acp-signature.ts';
import { signAsBank, type BankSigner } from './bank-signer.ts';
import { failedReturnFields, isPastPayTimeout, paidNotificationFields } from './messages.ts';
import { findTrade, markTradePaidAndEnqueueNotification, type Queryable, type Settlement, type TradeRow } from './store.ts';
import { encodeForm, formatSettleDate, formatTraceTime, newMaskedAccNo, newQueryId, newTraceNo } from './wire-format.ts';

export interface PaymentDeps {
  db: Queryable;
  log: Logger;
  notifier: Notifier;
  signer: () => Promise<BankSigner>;
}

export type PaymentResult =
  | { outcome: 'paid'; trade: TradeRow }
  | { outcome: 'refused'; code: PayRefusal; message: string };

type Refused = Extract<PaymentResult, { outcome: 'refused' }>;

/** Why the bank will not take this payment now, or undefined when it will. */
export function payRefusal(trade: TradeRow, now: Date): Refused | undefined {
  const id = `${trade.merId}/${trade.orderId}`;
  if (trade.state === 'PAID') return { outcome: 'refused', code: 'trade_paid', message: `trade ${id} is already paid` };
  if (isPastPayTimeout(trade, now)) {
    // UnionPay refuses a payment after payTimeout (§3.4); the trade never becomes payable again.
    return { outcome: 'refused', code: 'trade_expired', message: `trade ${id} passed its payTimeout at ${trade.payTimeout?.toISOString()}` };
  }
  return undefined;
}

export async function payTrade(deps: PaymentDeps, trade: TradeRow, now: Date): Promise<PaymentResult> {
  const { db, log, notifier } = deps;
  const refused = payRefusal(trade, now);
  if (refused) return refused;
  const settlement: Settlement = {
    queryId: newQueryId(now),
    traceNo: newTraceNo(),
    traceTime: formatTraceTime(now),
    settleDate: formatSettleDate(now),
    accNo: newMaskedAccNo(),
    paidAt: now,
  };
  const paid: TradeRow = { ...trade, state: 'PAID', settlement };
  const body = encodeForm(await signAsBank(paidNotificationFields(paid), await deps.signer()));
  // The queryId is unique per transaction, so it names the transaction's one notification too.
  const row = notifier.newNotification(settlement.queryId, body, now);
  if (!(await markTradePaidAndEnqueueNotification(db, trade, settlement, row))) {
    // Paid, or past its payTimeout, between our read and our update: report the state that won.
    const current = await findTrade(db, trade.merId, trade.orderId);
    const lost = current && payRefusal(current, now);
    if (!lost) throw new Error(`trade ${trade.merId}/${trade.orderId} was payable yet the payment did not apply`);
    return lost;
  }
  notifier.enqueued(row, trade.backUrl);
  log.debug({ merId: trade.merId, orderId: trade.orderId, queryId: settlement.queryId, dropped: row.state === 'dropped' }, 'sandbox unionpay: trade paid');
  return { outcome: 'paid', trade: paid };
}

/**
 * The signed fields the browser carries back to frontUrl (informative only, §3.4): the paid
 * notification's fields when the trade is paid, else respCode 01 with why it is not.
 */
export async function frontReturnFields(trade: TradeRow, whyNotPaid: string, signer: BankSigner): Promise<AcpFields> {
  return signAsBank(trade.state === 'PAID' ? paidNotificationFields(trade) : failedReturnFields(trade, whyNotPaid), signer);
}
