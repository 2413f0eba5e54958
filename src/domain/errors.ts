// The closed set of errors a merchant can meet. Codes are stable API; messages say what to do.

export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  csrf_refused: 403,
  signin_failed: 401,
  signin_locked: 429,
  signin_busy: 503,
  operator_exists: 409,
  exception_unresolved: 409,
  order_not_exception: 409,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_in_flight: 409,
  idempotency_key_reused: 422,
  duplicate_submission: 409,
  merchant_order_no_exists: 409,
  order_paid: 409,
  order_closed: 409,
  order_not_paid: 409,
  merchant_refund_no_exists: 409,
  refund_exceeds_paid: 409,
  payment_switch_in_progress: 409,
  channel_not_configured: 400,
  invalid_webhook_url: 400,
  nothing_to_redeliver: 409,
  channel_unavailable: 502,
  channel_rejected: 502,
  not_ready: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An expected failure with a stable code; anything else reaching the API is a 500 bug. */
export class PaycenterError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'PaycenterError';
    this.status = ERROR_STATUS[code];
  }
}

/** An impossible state: a bug. Thrown loudly with the ids involved. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
