// Checks that a parsed body is an event envelope before anything trusts its fields. Only what the
// kit itself relies on is checked (ids, type, sequence, order id and state); the rest is passed on.
import { WebhookVerificationError } from './errors.ts';
import { PAYCENTER_EVENT_TYPES, type PaycenterEvent, type PaycenterOrderState } from './types.ts';

/** A record, not a list: the compiler then insists on every state of PaycenterOrderState. */
const ORDER_STATES: Record<PaycenterOrderState, true> = { CREATED: true, PAYING: true, PAID: true, CLOSED: true, EXCEPTION: true };

export function parseEvent(value: unknown): PaycenterEvent {
  const event = value as Partial<Record<keyof PaycenterEvent, unknown>> | null;
  if (typeof event !== 'object' || event === null) return badPayload('the body is not a JSON object');
  if (typeof event.id !== 'string' || !event.id.startsWith('evt_')) return badPayload('id must be an evt_… string');
  if (!(PAYCENTER_EVENT_TYPES as readonly unknown[]).includes(event.type)) {
    return badPayload(
      `type ${JSON.stringify(event.type)} is not one this client kit knows (${PAYCENTER_EVENT_TYPES.join(', ')}); upgrade paycenter/client`,
    );
  }
  if (typeof event.createdAt !== 'string') return badPayload('createdAt must be a string');
  if (!Number.isSafeInteger(event.sequence)) return badPayload('sequence must be an integer');
  const order = (event.data as { order?: { id?: unknown; state?: unknown } } | undefined)?.order;
  if (typeof order?.id !== 'string' || typeof order.state !== 'string' || !Object.hasOwn(ORDER_STATES, order.state)) {
    return badPayload('data.order must be an order with an id and a state');
  }
  return event as PaycenterEvent;
}

function badPayload(what: string): never {
  throw new WebhookVerificationError('bad_payload', `not a Paycenter event: ${what}`);
}
