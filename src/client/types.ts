// The shapes Paycenter sends, declared here so the client kit depends on nothing of the server.

export type PaycenterOrderState = 'CREATED' | 'PAYING' | 'PAID' | 'CLOSED' | 'EXCEPTION';
export type PaycenterPaymentState = 'CREATING' | 'PENDING' | 'CLOSING' | 'SUCCEEDED' | 'FAILED' | 'CLOSED';

/** What the buyer needs to pay: a QR code to show, or a URL to send the buyer to. */
export type PaycenterPayAction =
  | { type: 'qr_code'; codeUrl: string }
  | { type: 'redirect'; url: string }
  | { type: 'form_post'; url: string; fields: Record<string, string> };

export interface PaycenterPayment {
  id: string;
  channel: string;
  method: string;
  outTradeNo: string;
  state: PaycenterPaymentState;
  /** Integer minor units (fen). */
  amount: number;
  currency: string;
  action: PaycenterPayAction | null;
  channelTradeNo: string | null;
  failureCode: string | null;
  /** Fen returned to the buyer by succeeded refunds of this payment. */
  refundedAmount: number;
  createdAt: string;
  paidAt: string | null;
}

export interface PaycenterOrder {
  id: string;
  merchantOrderNo: string;
  /** Integer minor units (fen). */
  amount: number;
  currency: string;
  subject: string;
  description: string | null;
  customerId: string | null;
  metadata: Record<string, string> | null;
  state: PaycenterOrderState;
  expiresAt: string;
  createdAt: string;
  paidAt: string | null;
  closedAt: string | null;
  /** How much of the paid amount went back to the buyer. */
  refund: { state: 'NONE' | 'PARTIAL' | 'FULL'; refundedAmount: number };
  payments: PaycenterPayment[];
}

export interface PaycenterRefund {
  id: string;
  orderId: string;
  paymentId: string;
  /** merchant: asked by you; duplicate / late: Paycenter returning a second or a late payment. */
  kind: 'merchant' | 'duplicate' | 'late';
  merchantRefundNo: string | null;
  outRefundNo: string;
  /** Integer minor units (fen). */
  amount: number;
  currency: string;
  reason: string | null;
  state: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  channelRefundNo: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: string;
  succeededAt: string | null;
}

export const PAYCENTER_EVENT_TYPES = [
  'order.paid',
  'order.closed',
  'order.exception',
  'refund.succeeded',
  'refund.failed',
  'payment.duplicate_refunded',
  'payment.late_refunded',
] as const;
export type PaycenterEventType = (typeof PAYCENTER_EVENT_TYPES)[number];

export interface PaycenterEvent {
  /** `evt_…`: the same on every delivery and retry of this event, hence the inbox key. */
  id: string;
  type: PaycenterEventType;
  createdAt: string;
  /** Grows with every event of one order: a lower sequence than one already seen is older news. */
  sequence: number;
  /** `refund` on refund.* and payment.*_refunded events. */
  data: { order: PaycenterOrder; refund?: PaycenterRefund };
}
