// Every broker call is bounded: a publish that never hears back must fail, so the dispatcher can
// retry it, instead of holding a delivery forever.

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Settles as `promise` does, or rejects with a TimeoutError once `timeoutMs` have passed. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
