// Named fixtures for the client kit's tests: an order, an event of it, and a signed delivery.
import { randomBytes } from 'node:crypto';
import { signWebhook } from '../../src/domain/webhook-signature.ts';
import type { PaycenterEvent, PaycenterEventType, PaycenterOrder } from '../../src/client/index.ts';
import type { EventType } from '../../src/domain/events.ts';
import type { OrderView } from '../../src/services/views.ts';

// The client kit declares its own copy of what Paycenter sends, to stay free of server code; these
// stop compiling (tsc --noEmit) the day the copy and the server's view drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const clientOrderMatchesServer: Same<PaycenterOrder, OrderView> = true;
export const clientEventTypesMatchServer: Same<PaycenterEventType, EventType> = true;

export function orderFixture(overrides: Partial<PaycenterOrder> = {}): PaycenterOrder {
  return {
    id: `ord_${randomBytes(16).toString('base64url')}`,
    merchantOrderNo: 'SO-42',
    amount: 1999,
    currency: 'CNY',
    subject: 'Green tea',
    description: null,
    customerId: null,
    metadata: null,
    state: 'PAYING',
    expiresAt: '2030-01-01T00:15:00.000Z',
    createdAt: '2030-01-01T00:00:00.000Z',
    paidAt: null,
    closedAt: null,
    refund: { state: 'NONE', refundedAmount: 0 },
    payments: [],
    ...overrides,
  };
}

/** An order.paid event unless told otherwise; the order's state follows the type. */
export function eventFixture(type: PaycenterEventType = 'order.paid', order: Partial<PaycenterOrder> = {}): PaycenterEvent {
  const state = (
    {
      'order.paid': 'PAID',
      'order.closed': 'CLOSED',
      'order.exception': 'EXCEPTION',
      'refund.succeeded': 'PAID',
      'refund.failed': 'PAID',
      'payment.duplicate_refunded': 'PAID',
      'payment.late_refunded': 'CLOSED',
    } as const
  )[type];
  return {
    id: `evt_${randomBytes(16).toString('base64url')}`,
    type,
    createdAt: '2030-01-01T00:01:00.000Z',
    sequence: 2,
    data: { order: orderFixture({ state, ...order }) },
  };
}

export interface Delivery {
  headers: Record<string, string>;
  rawBody: string;
}

/** What Paycenter sends: the body and its Standard Webhooks headers. */
export function signedDelivery(
  secret: string,
  event: PaycenterEvent,
  timestampSec = Math.floor(Date.now() / 1000),
  rawBody = JSON.stringify(event),
): Delivery {
  return {
    headers: {
      'webhook-id': event.id,
      'webhook-timestamp': String(timestampSec),
      'webhook-signature': signWebhook(secret, event.id, timestampSec, rawBody),
    },
    rawBody,
  };
}
