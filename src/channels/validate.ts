// What every adapter checks where Paycenter's input crosses into a channel: a create input the
// channel could not take is refused locally, before the channel sees it, and a configured key that
// cannot be read fails start-up. Each adapter adds its own checks (Alipay's subject, UnionPay's
// orderId and dates) after these.
import type { KeyObject } from 'node:crypto';
import type { CreatePaymentInput, CreatePaymentResult } from './types.ts';

export type CreateRejection = Extract<CreatePaymentResult, { kind: 'rejected' }>;

export interface CreateInputLimits {
  /** The channel's name, as it starts the messages. */
  channel: string;
  methods: readonly string[];
  /** The channel's amount ceiling in fen, where it documents one. */
  amountMinorMax?: number;
}

/** Method, amount and currency, in that order: the first the channel does not take, refused. */
export function rejectUnsupportedInput(input: CreatePaymentInput, limits: CreateInputLimits): CreateRejection | undefined {
  const { channel, methods, amountMinorMax } = limits;
  if (!methods.includes(input.method)) {
    const names = methods.map((m) => `"${m}"`).join(' and ');
    const message = `${channel} supports ${methods.length === 1 ? 'method' : 'methods'} ${names} only`;
    return { kind: 'rejected', code: 'unsupported_method', message };
  }
  const amountOk = Number.isSafeInteger(input.amountMinor) && input.amountMinor > 0;
  if (!amountOk || (amountMinorMax !== undefined && input.amountMinor > amountMinorMax)) {
    const message =
      amountMinorMax === undefined
        ? 'amountMinor must be a positive whole number of fen'
        : `amountMinor must be a whole number of fen from 1 to ${amountMinorMax}`;
    return { kind: 'rejected', code: 'invalid_amount', message };
  }
  if (input.currency !== 'CNY') {
    return { kind: 'rejected', code: 'unsupported_currency', message: `${channel} accepts CNY only` };
  }
  return undefined;
}

export function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** For channels that need nothing of expiresAt but that it is a date. */
export function rejectInvalidExpiry(input: CreatePaymentInput): CreateRejection | undefined {
  if (isValidDate(input.expiresAt)) return undefined;
  return { kind: 'rejected', code: 'invalid_expiry', message: 'expiresAt is not a valid date' };
}

/** Fails start-up with the key's name only — never its content. */
export function readKey(name: string, read: () => KeyObject): KeyObject {
  try {
    return read();
  } catch {
    throw new Error(`${name} is not a readable key`);
  }
}
