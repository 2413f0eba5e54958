// The public shape of orders and payments, used by API answers and event payloads alike.
import type { AttemptRow, OrderRow } from '../store/orders.ts';
import type { AttemptState, OrderState } from '../domain/states.ts';
import type { EventRow } from '../store/events.ts';
import type { RefundRow } from '../store/refunds.ts';
import { refundProgress, type RefundKind, type RefundProgress, type RefundState } from '../domain/refunds.ts';

export interface PaymentView {
  id: string;
  channel: string;
  method: string;
  outTradeNo: string;
  state: AttemptState;
  amount: number;
  currency: string;
  action: AttemptRow['action'];
  channelTradeNo: string | null;
  failureCode: string | null;
  /** Fen returned to the buyer by succeeded refunds of this payment. */
  refundedAmount: number;
  createdAt: string;
  paidAt: string | null;
}

export interface OrderView {
  id: string;
  merchantOrderNo: string;
  amount: number;
  currency: string;
  subject: string;
  description: string | null;
  customerId: string | null;
  metadata: Record<string, string> | null;
  state: OrderState;
  expiresAt: string;
  createdAt: string;
  paidAt: string | null;
  closedAt: string | null;
  /** How much of the paid amount went back to the buyer: NONE, PARTIAL or FULL, and the fen refunded. */
  refund: { state: RefundProgress; refundedAmount: number };
  payments: PaymentView[];
}

export interface RefundView {
  id: string;
  orderId: string;
  paymentId: string;
  kind: RefundKind;
  merchantRefundNo: string | null;
  outRefundNo: string;
  amount: number;
  currency: string;
  reason: string | null;
  state: RefundState;
  channelRefundNo: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: string;
  succeededAt: string | null;
}

export function refundView(r: RefundRow): RefundView {
  return {
    id: r.id,
    orderId: r.orderId,
    paymentId: r.attemptId,
    kind: r.kind,
    merchantRefundNo: r.merchantRefundNo,
    outRefundNo: r.outRefundNo,
    amount: r.amountMinor,
    currency: r.currency,
    reason: r.reason,
    state: r.state,
    channelRefundNo: r.channelRefundNo,
    failureCode: r.failureCode,
    failureMessage: r.failureMessage,
    createdAt: r.createdAt.toISOString(),
    succeededAt: r.succeededAt?.toISOString() ?? null,
  };
}

export function paymentView(a: AttemptRow): PaymentView {
  return {
    id: a.id,
    channel: a.channel,
    method: a.method,
    outTradeNo: a.outTradeNo,
    state: a.state,
    amount: a.amountMinor,
    currency: a.currency,
    action: a.action,
    channelTradeNo: a.channelTradeNo,
    failureCode: a.failureCode,
    refundedAmount: a.refundedMinor,
    createdAt: a.createdAt.toISOString(),
    paidAt: a.paidAt?.toISOString() ?? null,
  };
}

export function orderView(o: OrderRow, attempts: AttemptRow[]): OrderView {
  const refundedAmount = attempts.find((a) => a.id === o.paidAttemptId)?.refundedMinor ?? 0;
  return {
    id: o.id,
    merchantOrderNo: o.merchantOrderNo,
    amount: o.amountMinor,
    currency: o.currency,
    subject: o.subject,
    description: o.description,
    customerId: o.customerId,
    metadata: o.metadata,
    state: o.state,
    expiresAt: o.expiresAt.toISOString(),
    createdAt: o.createdAt.toISOString(),
    paidAt: o.paidAt?.toISOString() ?? null,
    closedAt: o.closedAt?.toISOString() ?? null,
    refund: { state: refundProgress(o.amountMinor, refundedAmount), refundedAmount },
    payments: attempts.map(paymentView),
  };
}

/** The event as every receiver gets it (webhook body, broker message, GET /v1/events). */
export interface EventView {
  id: string;
  type: EventRow['type'];
  createdAt: string;
  sequence: number;
  /** `refund` on refund.* and payment.*_refunded events. */
  data: { order: OrderView; refund?: RefundView };
}

export function eventView(e: EventRow): EventView {
  // Written by emitEvent from orderView: the stored JSON has this shape.
  return { id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), sequence: e.sequence, data: e.data as EventView['data'] };
}
