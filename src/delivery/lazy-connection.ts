// One broker connection shared by every publish: opened on first use, by one attempt at a time
// however many publishes wait for it, and forgotten when it fails or is lost, so the next publish
// opens a new one. That is how a publisher recovers from a broker restart without being rebuilt.

export interface LazyConnection<T> {
  /** The open connection, or the attempt in flight; rejects once `close` was called. */
  get(): Promise<T>;
  /** Hands out no more connections and shuts the current one, if any. Never rejects. */
  close(): Promise<void>;
}

/**
 * `open` makes a connection and calls `lost` whenever it is gone later (closed by the broker, the
 * network, or an error); `shut` closes one.
 */
export function lazyConnection<T>(
  open: (lost: () => void) => Promise<T>,
  shut: (connection: T) => Promise<void>,
): LazyConnection<T> {
  let current: Promise<T> | undefined;
  let closed = false;

  const forget = (connection: Promise<T>): void => {
    if (current === connection) current = undefined;
  };

  return {
    get() {
      if (closed) return Promise.reject(new Error('the publisher is closed'));
      if (current) return current;
      const opening = open(() => forget(opening));
      current = opening;
      opening.catch(() => forget(opening));
      return opening;
    },
    async close() {
      closed = true;
      const last = current;
      current = undefined;
      // A connection that fails to close is gone anyway; the caller is shutting down.
      await last?.then(shut).catch(() => undefined);
    },
  };
}
