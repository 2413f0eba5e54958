// What `paycenter chaos` records while it runs and what the invariant check reads afterwards.
// The check reads the databases themselves (Paycenter's, the sandbox ledger's schema in the same
// database, and the business receiver's), so it judges what happened, not what the workload thinks.

/** Order metadata key naming the shopper's logical purchase (G2: one order per purchase). */
export const PURCHASE_METADATA_KEY = 'chaosPurchase';
/** The business receiver's tables in its own database. */
export const INBOX_TABLE = 'paycenter_inbox';
/** One row per applied effect, without a unique key: an event applied twice shows as two rows (G4). */
export const EFFECTS_TABLE = 'chaos_effects';

export const INVARIANTS = {
  G1: 'Every trade paid at the bank is PAID in Paycenter or refunded automatically',
  G2: 'One order per logical submission',
  G3: 'Collected minus refunded at the channel is what each order keeps',
  G4: 'The receiver applied each event exactly once and received every event',
  G5: 'No forged notification changed anything',
  G6: 'Every state change in the audit follows the transition table',
  R: 'The final reconciliation finds nothing unexplained',
} as const;

export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  /** The order, attempt, event or trade concerned. */
  id: string;
  detail: string;
}

export interface InvariantResult {
  name: InvariantName;
  title: string;
  /** How many things were checked (trades, purchases, orders, events, notifications, transitions). */
  checked: number;
  violations: Violation[];
}

/** What the workload did that only it knows. */
export interface WorkloadLog {
  /**
   * Notifications the workload forged and POSTed to Paycenter, each naming a real out_trade_no.
   * Paycenter stores the exact body of every notification it receives, so a refused one is found
   * by its body even when nothing inside could be read.
   */
  forged: { channel: string; outTradeNo: string; kind: string; body: string }[];
  /** Every refund the workload asked for that Paycenter answered, with its answer (G3 checks what was accepted is stored so). */
  refunds: RefundAsk[];
}

export interface RefundAsk {
  orderId: string;
  merchantRefundNo: string;
  amount: number;
  /** A replay of an earlier ask's number: with the same body, or another amount. */
  replay?: 'same' | 'different';
  status: number;
  /** The error code of a refusal. */
  code?: string;
  /** The refund answered on 200 or 201. */
  refundId?: string;
}
