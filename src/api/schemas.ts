// Request and response schemas: one source for validation, serialization and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';
import { AMOUNT_MINOR_MAX, AMOUNT_MINOR_MIN, SUPPORTED_CURRENCIES } from '../domain/money.ts';
import { ATTEMPT_STATES, ORDER_STATES } from '../domain/states.ts';
import { CHANNEL_NAMES, PAYMENT_METHODS } from '../domain/channels.ts';

/** 90 days: WeChat Pay's longest time_expire. */
export const EXPIRES_IN_SECONDS_MAX = 90 * 86_400;
export const METADATA_KEYS_MAX = 20;

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

export const CreateOrderBody = Type.Object(
  {
    merchantOrderNo: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_\\-]+$',
      description: "Your own order number, unique per app: letters, digits, `_` and `-`, 1–64 characters.",
    }),
    amount: Type.Integer({
      minimum: AMOUNT_MINOR_MIN,
      maximum: AMOUNT_MINOR_MAX,
      description: 'Amount in minor units (fen): 100 means 1.00 CNY. A positive whole number.',
    }),
    currency: Type.Union(
      SUPPORTED_CURRENCIES.map((c) => Type.Literal(c)),
      { description: 'ISO 4217 code. Only `CNY` today.' },
    ),
    subject: Type.String({ minLength: 1, maxLength: 127, description: 'Shown to the buyer by the channel (1–127 characters).' }),
    description: Type.Optional(Type.String({ maxLength: 1000, description: 'Longer description, up to 1000 characters.' })),
    customerId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Your buyer id; part of the duplicate-submission fingerprint.' }),
    ),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), {
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
    Type.Object({ type: Type.Literal('redirect'), url: Type.String() }),
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
      description: 'CREATING: sent to the channel, answer not known yet. PENDING: waiting for the buyer. SUCCEEDED, FAILED, CLOSED.',
    }),
    amount: Type.Integer(),
    currency: Type.String(),
    action: Type.Union([PayAction, Type.Null()]),
    channelTradeNo: Type.Union([Type.String(), Type.Null()], { description: "The channel's transaction id once paid." }),
    failureCode: Type.Union([Type.String(), Type.Null()]),
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
      description: 'CREATED → PAYING → PAID; CREATED|PAYING → CLOSED; PAYING → EXCEPTION → PAID|CLOSED.',
    }),
    expiresAt: Type.String({ format: 'date-time' }),
    createdAt: Type.String({ format: 'date-time' }),
    paidAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
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
        { description: 'WeChat Pay: `native` (QR code). Default: the channel’s first method.' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PayBody = Static<typeof PayBody>;

export const PayResponse = Type.Object({ order: Type.Ref(Order), payment: Type.Ref(Payment) });

export const OrderIdParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'The order id (`ord_…`).' }) });

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
  { merchantOrderNo: Type.String({ minLength: 1, maxLength: 64, description: 'Your order number.' }) },
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
