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
  payments: PaycenterPayment[];
}

export const PAYCENTER_EVENT_TYPES = ['order.paid', 'order.closed', 'order.exception'] as const;
export type PaycenterEventType = (typeof PAYCENTER_EVENT_TYPES)[number];

export interface PaycenterEvent {
  /** `evt_…`: the same on every delivery and retry of this event, hence the inbox key. */
  id: string;
  type: PaycenterEventType;
  createdAt: string;
  /** Grows with every event of one order: a lower sequence than one already seen is older news. */
  sequence: number;
  data: { order: PaycenterOrder };
}
