// In-process fan-out of the events the inbox has seen, so waitForPayment in the same process hears
// about a payment as soon as the webhook or broker consumer has committed it.
import type { PaycenterEvent } from './types.ts';

export type PaycenterEventListener = (event: PaycenterEvent) => void;

export interface EventHub {
  /** Calls every listener. All run even if one throws; then the error (or an AggregateError) is thrown. */
  publish(event: PaycenterEvent): void;
  /** Returns the function that removes the listener. */
  on(listener: PaycenterEventListener): () => void;
}

export function createEventHub(): EventHub {
  const listeners = new Set<PaycenterEventListener>();
  return {
    publish(event) {
      const errors: unknown[] = [];
      // A copy: listeners added or removed by a listener take effect from the next event on.
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} event listeners threw on ${event.id}`);
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
