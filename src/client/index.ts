// paycenter/client: what a business system needs to receive Paycenter's events exactly once and
// to wait for a payment. Depends on node built-ins only; bring your own pg Pool.
export { createPaycenterClient } from './api.ts';
export type { GetOrderOptions, PaycenterClient, PaycenterClientOptions } from './api.ts';
export { PaycenterApiError, WebhookVerificationError } from './errors.ts';
export type { WebhookVerificationCode } from './errors.ts';
export type { WebhookRequest, WebhookResponse } from './handle-webhook.ts';
export { createEventHub } from './hub.ts';
export type { EventHub, PaycenterEventListener } from './hub.ts';
export { createInbox } from './inbox.ts';
export type { Inbox, InboxClient, InboxOptions, InboxPool } from './inbox.ts';
export { PAYCENTER_EVENT_TYPES } from './types.ts';
export type {
  PaycenterEvent,
  PaycenterEventType,
  PaycenterOrder,
  PaycenterOrderState,
  PaycenterPayAction,
  PaycenterPayment,
  PaycenterPaymentState,
  PaycenterRefund,
} from './types.ts';
export { verifyWebhook } from './verify.ts';
export type { VerifyWebhookOptions, WebhookHeaders } from './verify.ts';
export type { WaitForPaymentOptions, WaitForPaymentResult } from './wait.ts';
