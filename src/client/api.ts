// A small client of Paycenter's HTTP API: reading orders, and waiting for one to be paid.
import { PaycenterApiError } from './errors.ts';
import type { EventHub } from './hub.ts';
import type { PaycenterOrder } from './types.ts';
import { waitForPayment, type WaitForPaymentOptions, type WaitForPaymentResult } from './wait.ts';

export interface PaycenterClientOptions {
  /** Where Paycenter listens, e.g. `http://127.0.0.1:8080` (without `/v1`). */
  baseUrl: string;
  apiKey: string;
  /** The hub your inbox publishes to; lets waitForPayment return on the event. */
  hub?: EventHub;
  /** For tests or a custom agent. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Per-request limit, so a hung connection cannot outlast a wait. Default 10 000 ms. */
  requestTimeoutMs?: number;
}

export interface GetOrderOptions {
  /** Ask the channel first when the order is PAYING (Paycenter's active query). */
  sync?: boolean;
  signal?: AbortSignal;
}

export interface PaycenterClient {
  /** Throws PaycenterApiError on an error answer (e.g. code `not_found`) or when Paycenter is unreachable. */
  getOrder(id: string, opts?: GetOrderOptions): Promise<PaycenterOrder>;
  waitForPayment(orderId: string, opts: WaitForPaymentOptions): Promise<WaitForPaymentResult>;
}

const REQUEST_TIMEOUT_MS_DEFAULT = 10_000;

export function createPaycenterClient(options: PaycenterClientOptions): PaycenterClient {
  const baseUrl = new URL(options.baseUrl).toString().replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;

  async function getOrder(id: string, opts: GetOrderOptions = {}): Promise<PaycenterOrder> {
    const url = `${baseUrl}/v1/orders/${encodeURIComponent(id)}${opts.sync ? '?sync=true' : ''}`;
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' },
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      });
    } catch (err) {
      // The caller's own abort is theirs to handle, unchanged.
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw new PaycenterApiError(0, 'unreachable', `Paycenter at ${baseUrl} did not answer GET ${url}: check baseUrl and that Paycenter is running`, { cause: err });
    }
    const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
    if (!res.ok) {
      const error = body?.error;
      throw new PaycenterApiError(res.status, error?.code ?? 'bad_response', error?.message ?? `Paycenter answered ${res.status} to GET ${url}`);
    }
    if (typeof body !== 'object' || body === null) {
      throw new PaycenterApiError(res.status, 'bad_response', `Paycenter answered GET ${url} without a JSON order: check baseUrl`);
    }
    return body as PaycenterOrder;
  }

  return {
    getOrder,
    waitForPayment: (orderId, opts) => waitForPayment({ getOrder, hub: options.hub }, orderId, opts),
  };
}
