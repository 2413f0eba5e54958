// Business event types, `noun.verb`, in one map: the same words in code, logs, docs and tests.
export const EVENT_TYPES = {
  'order.paid': 'The order was paid; `data.order.payments` names the attempt that paid it.',
  'order.closed': 'The order was closed (expired or closed by the merchant) and can no longer be paid.',
  'order.exception': 'The payment could not be resolved on schedule; Paycenter keeps querying and an operator may act.',
  'refund.succeeded': 'A refund you asked for succeeded: the money is back with the buyer. `data.refund` is the refund.',
  'refund.failed': 'A refund failed at the channel and no money moved; `data.refund.failureCode` says why. Ask again with a new merchantRefundNo.',
  'payment.duplicate_refunded': 'The buyer paid an already paid order a second time (another attempt); Paycenter refunded that payment in full.',
  'payment.late_refunded': 'The buyer paid after the order was closed; Paycenter refunded that payment in full.',
} as const;

export type EventType = keyof typeof EVENT_TYPES;
