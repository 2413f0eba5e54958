// The errors the client kit throws, each with a stable code to branch on.

export type WebhookVerificationCode = 'missing_headers' | 'timestamp_out_of_tolerance' | 'bad_signature' | 'bad_payload';

/** A delivery that must not be trusted; answer 400 and look at `code`. */
export class WebhookVerificationError extends Error {
  constructor(
    readonly code: WebhookVerificationCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/**
 * A call to Paycenter's API that did not return the expected answer. `code` is Paycenter's own
 * error code on an error answer, or `unreachable` (no answer; status 0) or `bad_response`.
 */
export class PaycenterApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PaycenterApiError';
  }
}
