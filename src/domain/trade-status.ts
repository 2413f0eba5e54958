// The normalized word of a channel about one trade, as every adapter reports it and every
// decision reads it. Channel field names never appear here.

/** Facts the channel reported about one trade; `unknown` means "ask again later" (G6). */
export type TradeStatus =
  | {
      kind: 'paid';
      channelTradeNo: string;
      amountMinor: number;
      currency: string;
      paidAt: Date;
    }
  | { kind: 'not_paid' }
  | { kind: 'closed' }
  | { kind: 'not_found' }
  | { kind: 'unknown'; reason: string };
