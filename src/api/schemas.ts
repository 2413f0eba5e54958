// Request and response schemas: one source for validation, serialization and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';
import { AMOUNT_MINOR_MAX, AMOUNT_MINOR_MIN, SUPPORTED_CURRENCIES } from '../domain/money.ts';
import { ATTEMPT_STATES, ORDER_STATES } from '../domain/states.ts';
import { CHANNEL_NAMES, PAYMENT_METHODS, RETURN_URL_CHARS_MAX } from '../domain/channels.ts';
import { EVENT_TYPES, type EventType } from '../domain/events.ts';
import { EVENTS_PAGE_MAX } from '../services/events.ts';
import { Refund } from './refund-schemas.ts';

/** 90 days: WeChat Pay's longest time_expire. */
export const EXPIRES_IN_SECONDS_MAX = 90 * 86_400;
export const METADATA_KEYS_MAX = 20;
/** One page of GET /v1/events when `limit` is not given. */
export const EVENTS_PAGE_DEFAULT = 50;

/**
 * Free text the database stores: any characters but NUL, which PostgreSQL's text and jsonb refuse
 * (it would surface as a 500 instead of `invalid_request`).
 */
const Text = (options: { minLength?: number; maxLength: number; description?: string }) =>
  Type.String({ ...options, pattern: '^[^\\u0000]*$' });

/**
 * Letters, digits, `_` and `-`, 1–64 characters: a merchantOrderNo, and our own ids (`ord_…`,
 * `evt_…`, `we_…`: a prefix and base64url), so a lookup by anything else never reaches the database.
 */
export const Identifier = (description: string) =>
  Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_\\-]+$', description });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable error code, e.g. `duplicate_submission`. See the error table in /docs.' }),
        message: Type.String({ description: 'What went wrong and what to do about it.' }),
        field: Type.Optional(Type.String({ description: 'The offending request field, for `invalid_request`.' })),
        orderId: Type.Optional(Type.String({ description: 'The existing order, for `duplicate_submission` and `merchant_order_no_exists`.' })),
        paymentId: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
  },
  { $id: 'Error', title: 'Error' },
);

/** Error answers of a route, for the OpenAPI document. */
export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, Type.Ref('Error')]));

export const CreateOrderBody = Type.Object(
  {
    merchantOrderNo: Identifier("Your own order number, unique per app: letters, digits, `_` and `-`, 1–64 characters."),
    amount: Type.Integer({
      minimum: AMOUNT_MINOR_MIN,
      maximum: AMOUNT_MINOR_MAX,
      description: 'Amount in minor units (fen): 100 means 1.00 CNY. A positive whole number.',
    }),
    currency: Type.Union(
      SUPPORTED_CURRENCIES.map((c) => Type.Literal(c)),
      { description: 'ISO 4217 code. Only `CNY` today.' },
    ),
    subject: Text({ minLength: 1, maxLength: 127, description: 'Shown to the buyer by the channel (1–127 characters).' }),
    description: Type.Optional(Text({ maxLength: 1000, description: 'Longer description, up to 1000 characters.' })),
    customerId: Type.Optional(
      Text({ minLength: 1, maxLength: 64, description: 'Your buyer id; part of the duplicate-submission fingerprint.' }),
    ),
    metadata: Type.Optional(
      // TypeBox drops a key schema's limits from a Record (its keys become `patternProperties`
      // `^(.*)$`); `propertyNames` is what makes Ajv check them.
      Type.Record(Type.String(), Text({ maxLength: 500 }), {
        propertyNames: Text({ maxLength: 40 }),
        maxProperties: METADATA_KEYS_MAX,
        description: `Up to ${METADATA_KEYS_MAX} string key/values for your own use, returned as given.`,
      }),
    ),
    expiresInSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: EXPIRES_IN_SECONDS_MAX,
        description:
          'Seconds until the buyer can no longer pay (default PAYCENTER_ORDER_TTL_MS). WeChat Pay treats anything under 60 as 60.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

const PayAction = Type.Union(
  [
    Type.Object({ type: Type.Literal('qr_code'), codeUrl: Type.String({ description: 'Render as a QR code for the buyer to scan.' }) }),
    Type.Object({ type: Type.Literal('redirect'), url: Type.String({ description: "Send the buyer's browser here (Alipay page pay)." }) }),
    Type.Object({
      type: Type.Literal('form_post'),
      url: Type.String(),
      fields: Type.Record(Type.String(), Type.String()),
    }, { description: "Render an auto-submitting HTML form that POSTs `fields` to `url` in the buyer's browser (UnionPay gateway)." }),
  ],
  { description: 'What the buyer needs to pay.' },
);

export const Payment = Type.Object(
  {
    id: Type.String(),
    channel: Type.String(),
    method: Type.String(),
    outTradeNo: Type.String({ description: "The trade number at the channel (Paycenter's own; reused on every retry)." }),
    state: Type.Union(ATTEMPT_STATES.map((s) => Type.Literal(s)), {
      description:
        'CREATING: sent to the channel, answer not known yet. PENDING: waiting for the buyer. CLOSING: closed by Paycenter (the buyer switched, or the order closed) but the channel refuses it only from its expiry on, so it is still watched. SUCCEEDED, FAILED, CLOSED.',
    }),
    amount: Type.Integer(),
    currency: Type.String(),
    action: Type.Union([PayAction, Type.Null()]),
    channelTradeNo: Type.Union([Type.String(), Type.Null()], { description: "The channel's transaction id once paid." }),
    failureCode: Type.Union([Type.String(), Type.Null()]),
    refundedAmount: Type.Integer({ description: 'Fen returned to the buyer by succeeded refunds of this payment.' }),
    createdAt: Type.String({ format: 'date-time' }),
    paidAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Payment', title: 'Payment' },
);

export const Order = Type.Object(
  {
    id: Type.String(),
    merchantOrderNo: Type.String(),
    amount: Type.Integer({ description: 'Minor units (fen).' }),
    currency: Type.String(),
    subject: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    customerId: Type.Union([Type.String(), Type.Null()]),
    metadata: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
    state: Type.Union(ORDER_STATES.map((s) => Type.Literal(s)), {
      description:
        'CREATED → PAYING → PAID; CREATED|PAYING → CLOSED; PAYING → EXCEPTION → PAID|CLOSED. PAID → EXCEPTION only when the daily reconciliation finds the payment missing from the channel’s bill; CLOSED → PAID only with PAYCENTER_LATE_PAYMENTS=accept.',
    }),
    expiresAt: Type.String({ format: 'date-time' }),
    createdAt: Type.String({ format: 'date-time' }),
    paidAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    refund: Type.Object(
      {
        state: Type.Union([Type.Literal('NONE'), Type.Literal('PARTIAL'), Type.Literal('FULL')]),
        refundedAmount: Type.Integer({ description: 'Fen refunded so far (succeeded refunds of the paying payment).' }),
      },
      { description: 'How much of the paid amount went back to the buyer.' },
    ),
    payments: Type.Array(Type.Ref(Payment)),
  },
  { $id: 'Order', title: 'Order' },
);

export const PayBody = Type.Object(
  {
    channel: Type.Union(
      CHANNEL_NAMES.map((c) => Type.Literal(c)),
      { description: 'The payment channel.' },
    ),
    method: Type.Optional(
      Type.Union(
        PAYMENT_METHODS.map((m) => Type.Literal(m)),
        {
          description:
            'WeChat Pay: `native` (QR code). Alipay: `qr` (QR code) or `page` (redirect to the cashier). UnionPay: `gateway` (form POST to the cashier). Default: the channel’s first method.',
        },
      ),
    ),
    returnUrl: Type.Optional(
      Type.String({
        maxLength: RETURN_URL_CHARS_MAX,
        description:
          'Redirect methods only (Alipay `page`, UnionPay `gateway`): the page of your shop the cashier sends the buyer back to (Alipay `return_url`, UnionPay `frontUrl`), e.g. your order page. An absolute http(s) URL of at most 256 characters. Unset: the channel’s configured return page. What the browser brings back is never trusted: the order changes only through notifications and queries. Paying the same order again with the same channel and method reuses the open payment and the return URL it was made with.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PayBody = Static<typeof PayBody>;

export const PayResponse = Type.Object({ order: Type.Ref(Order), payment: Type.Ref(Payment) });

export const OrderIdParams = Type.Object({ id: Identifier('The order id (`ord_…`).') });

export const GetOrderQuery = Type.Object(
  {
    sync: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], {
        description: 'With `true`, a PAYING order is queried at the channel before the answer (the business-side active query).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const FindOrderQuery = Type.Object(
  { merchantOrderNo: Identifier('Your order number.') },
  { additionalProperties: false },
);

export const TimelineResponse = Type.Object({
  data: Type.Array(
    Type.Object(
      {
        at: Type.String({ format: 'date-time' }),
        kind: Type.Union([Type.Literal('transition'), Type.Literal('notification'), Type.Literal('channel_call')]),
      },
      { additionalProperties: true },
    ),
  ),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Makes the request safe to retry: the same key and body return the first response for 24 h.',
    }),
  ),
});

const EventTypeSchema = Type.Union(
  (Object.keys(EVENT_TYPES) as EventType[]).map((t) => Type.Literal(t, { description: EVENT_TYPES[t] })),
  { description: Object.entries(EVENT_TYPES).map(([t, d]) => `\`${t}\`: ${d}`).join(' ') },
);

export const Event = Type.Object(
  {
    id: Type.String({ description: 'Stable across retries and targets: dedupe on it (the `webhook-id` header, AMQP message-id, Nats-Msg-Id).' }),
    type: EventTypeSchema,
    createdAt: Type.String({ format: 'date-time', description: 'When the state change committed.' }),
    sequence: Type.Integer({ description: "Grows with every event of the same order: drop an event older than the last one you applied." }),
    data: Type.Object({
      order: Type.Ref(Order),
      refund: Type.Optional(Type.Ref(Refund, { description: 'On refund.* and payment.*_refunded events.' })),
    }),
  },
  { $id: 'Event', title: 'Event' },
);

export const EventPage = Type.Object({
  data: Type.Array(Type.Ref(Event)),
  hasMore: Type.Boolean({ description: 'More events follow: ask again with `after` = the last id of `data`.' }),
});

export const ListEventsQuery = Type.Object(
  {
    after: Type.Optional(Identifier('The last event id you processed; omit to start at the first event.')),
    limit: Type.Optional(
      Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: `How many events, 1–${EVENTS_PAGE_MAX} (default ${EVENTS_PAGE_DEFAULT}).` }),
    ),
  },
  { additionalProperties: false },
);

const DELIVERY_TARGETS = ['webhook', 'amqp', 'nats'] as const;
const Delivery = Type.Object({
  target: Type.Union(DELIVERY_TARGETS.map((t) => Type.Literal(t))),
  endpointId: Type.Union([Type.String(), Type.Null()], { description: 'The webhook endpoint, for `webhook`.' }),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')], {
    description: 'pending: being retried. delivered: acknowledged (2xx, broker confirm). dead: retries used up or 410 Gone.',
  }),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  log: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      at: Type.String({ format: 'date-time' }),
      latencyMs: Type.Integer(),
      outcome: Type.Union([Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('gone')]),
      statusCode: Type.Union([Type.Integer(), Type.Null()]),
      response: Type.Union([Type.String(), Type.Null()], { description: "The first bytes of the receiver's answer." }),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export const EventWithDeliveries = Type.Intersect([Type.Ref(Event), Type.Object({ deliveries: Type.Array(Delivery) })]);

export const EventIdParams = Type.Object({ id: Identifier('The event id (`evt_…`).') });

export const CreateWebhookEndpointBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'An http:// or https:// URL that accepts POST.' }),
    events: Type.Optional(
      Type.Array(EventTypeSchema, { minItems: 1, maxItems: 20, description: 'Only these event types; omit for every type.' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateWebhookEndpointBody = Static<typeof CreateWebhookEndpointBody>;

const webhookEndpointFields = {
  id: Type.String(),
  url: Type.String(),
  events: Type.Union([Type.Array(EventTypeSchema), Type.Null()], { description: 'Null: every event type.' }),
  createdAt: Type.String({ format: 'date-time' }),
  disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'Set when the receiver answered 410 Gone: nothing more is sent to it. Create a new endpoint to resume.',
  }),
  disabledReason: Type.Union([Type.String(), Type.Null()]),
};

export const WebhookEndpoint = Type.Object(webhookEndpointFields);

export const CreatedWebhookEndpoint = Type.Object({
  ...webhookEndpointFields,
  secret: Type.String({ description: 'The signing secret (`whsec_…`), shown only in this answer. Verify `webhook-signature` with it.' }),
});

export const WebhookEndpointIdParams = Type.Object({ id: Identifier('The endpoint id (`we_…`).') });
