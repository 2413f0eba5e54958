// Request and response schemas of refunds (one source for validation, serialization and OpenAPI).
import { Type, type Static } from '@sinclair/typebox';
import { AMOUNT_MINOR_MAX } from '../domain/money.ts';
import { REFUND_KINDS, REFUND_STATES } from '../domain/refunds.ts';

const nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const Refund = Type.Object(
  {
    id: Type.String({ description: '`re_…`' }),
    orderId: Type.String(),
    paymentId: Type.String({ description: 'The payment (attempt) the money goes back from.' }),
    kind: Type.Union(REFUND_KINDS.map((k) => Type.Literal(k)), {
      description: 'merchant: asked by you. duplicate: a second payment of a paid order, returned by Paycenter. late: a payment after the order closed, returned by Paycenter.',
    }),
    merchantRefundNo: nullable(Type.String({ description: 'Your refund number (null for automatic refunds).' })),
    outRefundNo: Type.String({ description: "Paycenter's refund number at the channel (out_refund_no, out_request_no, UnionPay orderId)." }),
    amount: Type.Integer({ description: 'Minor units (fen).' }),
    currency: Type.String(),
    reason: nullable(Type.String()),
    state: Type.Union(REFUND_STATES.map((s) => Type.Literal(s)), {
      description: "PENDING until the channel's notification or Paycenter's query says SUCCEEDED (money back with the buyer) or FAILED (no money moved).",
    }),
    channelRefundNo: nullable(Type.String({ description: "The channel's refund id, once it succeeded." })),
    failureCode: nullable(Type.String({ description: "The channel's reason when FAILED." })),
    failureMessage: nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    succeededAt: nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Refund', title: 'Refund' },
);

export const CreateRefundBody = Type.Object(
  {
    amount: Type.Integer({
      minimum: 1,
      maximum: AMOUNT_MINOR_MAX,
      description: 'Minor units (fen) to give back. All refunds of an order together can never exceed what was paid.',
    }),
    merchantRefundNo: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_\\-]+$',
      description: 'Your refund number, unique per app: retrying with the same number and body returns the same refund.',
    }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 80, pattern: '^[^\\u0000]*$', description: 'Shown to the buyer by the channel (≤ 80 characters).' })),
  },
  { additionalProperties: false },
);
export type CreateRefundBody = Static<typeof CreateRefundBody>;

export const RefundList = Type.Object({ data: Type.Array(Type.Ref(Refund)) });
