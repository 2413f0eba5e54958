// What the channel-agnostic control API (/sandbox/pay, /sandbox/ledger) needs from each simulated
// channel. A test names a trade by its out_trade_no only; each channel looks it up in its ledger.

/** One trade as the bank's ledger knows it; times are ISO 8601 (UTC). */
export interface LedgerTrade {
  channel: string;
  mchId: string;
  outTradeNo: string;
  transactionId: string | null;
  /** Normalized: paid, not_paid or closed; channelState keeps the channel's own word. */
  state: 'paid' | 'not_paid' | 'closed';
  channelState: string;
  /** Minor units (fen). */
  amount: number;
  currency: string;
  createdAt: string;
  paidAt: string | null;
  closedAt: string | null;
  timeExpire: string | null;
  /** HTTP requests made to the notify_url (a duplicated delivery counts two; SIGNTEST probes do not count). */
  notificationsSent: number;
  notificationsAcknowledged: number;
  notificationsDropped: number;
}

export type PayRefusal = 'trade_closed' | 'trade_expired' | 'trade_paid';

export type PayResult =
  | { outcome: 'paid'; trade: LedgerTrade }
  | { outcome: 'refused'; code: PayRefusal; message: string }
  | { outcome: 'not_found' }
  /** Several merchants hold this out_trade_no and the caller named none. */
  | { outcome: 'ambiguous'; mchIds: string[] };

export interface SandboxChannel {
  readonly name: string;
  /** The buyer pays the trade; enqueues and starts sending the payment notification. */
  pay(outTradeNo: string, mchId: string | undefined): Promise<PayResult>;
  ledger(filter: { outTradeNo: string | undefined; limit: number }): Promise<LedgerTrade[]>;
}
