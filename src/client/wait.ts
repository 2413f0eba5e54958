// Waiting for an order to be paid: the event when the inbox hears it, Paycenter's active query
// when it does not in time. Subscribing before the first read means an event that lands between
// the read and the wait is not missed.
import type { EventHub } from './hub.ts';
import type { PaycenterOrder, PaycenterOrderState } from './types.ts';

export interface WaitForPaymentOptions {
  /** How long to wait for the event before asking Paycenter to query the channel. */
  timeoutMs: number;
  /** Aborting rejects the wait with the signal's reason. */
  signal?: AbortSignal;
}

export interface WaitForPaymentResult {
  /**
   * PAID or CLOSED when it came from an event or the first read. From the query after the
   * timeout it can be any state: EXCEPTION, for one, is not final (Paycenter keeps querying the
   * channel and the order may still become PAID), so it is returned rather than waited on.
   */
  order: PaycenterOrder;
  /** `event`: the hub delivered it; `query`: read from Paycenter's API. */
  source: 'event' | 'query';
}

interface WaitDeps {
  getOrder(id: string, opts: { sync?: boolean; signal?: AbortSignal | undefined }): Promise<PaycenterOrder>;
  hub?: EventHub | undefined;
}

/** setTimeout's limit (about 24.8 days); a longer delay would fire at once. */
const TIMEOUT_MS_MAX = 2_147_483_647;
const FINAL_STATES: readonly PaycenterOrderState[] = ['PAID', 'CLOSED'];

export async function waitForPayment(deps: WaitDeps, orderId: string, opts: WaitForPaymentOptions): Promise<WaitForPaymentResult> {
  const { timeoutMs, signal } = opts;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > TIMEOUT_MS_MAX) {
    throw new RangeError(`timeoutMs must be a whole number of ms from 0 to ${TIMEOUT_MS_MAX}, got ${timeoutMs}`);
  }
  signal?.throwIfAborted();
  let off = (): void => {};
  let timer: NodeJS.Timeout | undefined;
  let onAbort = (): void => {};
  try {
    const heard = new Promise<PaycenterOrder>((resolve) => {
      off =
        deps.hub?.on(({ data: { order } }) => {
          if (order.id === orderId && isFinal(order)) resolve(order);
        }) ?? off;
    });
    const first = await deps.getOrder(orderId, { signal });
    if (isFinal(first)) return { order: first, source: 'query' };
    const fromEvent = await new Promise<PaycenterOrder | null>((resolve, reject) => {
      onAbort = () => reject(signal?.reason);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => resolve(null), timeoutMs);
      void heard.then(resolve);
    });
    if (fromEvent) return { order: fromEvent, source: 'event' };
    return { order: await deps.getOrder(orderId, { sync: true, signal }), source: 'query' };
  } finally {
    off();
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function isFinal(order: PaycenterOrder): boolean {
  return FINAL_STATES.includes(order.state);
}
