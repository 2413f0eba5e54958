// Business event types, `noun.verb`, in one map: the same words in code, logs, docs and tests.
export const EVENT_TYPES = {
  'order.paid': 'The order was paid; `data.order.payments` names the attempt that paid it.',
  'order.closed': 'The order was closed (expired or closed by the merchant) and can no longer be paid.',
  'order.exception': 'The payment could not be resolved on schedule; Paycenter keeps querying and an operator may act.',
} as const;

export type EventType = keyof typeof EVENT_TYPES;
