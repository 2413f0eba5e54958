// A counting semaphore: bounds how many outgoing notification attempts run at once, so a burst
// of payments (or a receiver that hangs) cannot open unbounded sockets.
export class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];

  constructor(capacity: number) {
    this.available = capacity;
  }

  get free(): number {
    return this.available;
  }

  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available -= 1;
    } else {
      // A releasing holder hands its slot straight to the first waiter.
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.available += 1;
    };
  }
}
