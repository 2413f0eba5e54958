// The public shape of orders and payments, used by API answers and event payloads alike.
import type { AttemptRow, OrderRow } from '../store/orders.ts';
import type { AttemptState, OrderState } from '../domain/states.ts';
import type { EventRow } from '../store/events.ts';

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
  payments: PaymentView[];
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
    createdAt: a.createdAt.toISOString(),
    paidAt: a.paidAt?.toISOString() ?? null,
  };
}

export function orderView(o: OrderRow, attempts: AttemptRow[]): OrderView {
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
    payments: attempts.map(paymentView),
  };
}

/** The event as every receiver gets it (webhook body, broker message, GET /v1/events). */
export interface EventView {
  id: string;
  type: EventRow['type'];
  createdAt: string;
  sequence: number;
  data: { order: OrderView };
}

export function eventView(e: EventRow): EventView {
  // Written by emitEvent from orderView: the stored JSON has this shape.
  return { id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), sequence: e.sequence, data: e.data as EventView['data'] };
}
