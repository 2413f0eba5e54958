// Fault injection shared by every simulated channel: the misbehaviours of a real bank that
// Paycenter must survive (lost, late and repeated notifications; errors and timeouts, some of
// them after the side effect). In memory per sandbox process: tests set them, nothing persists.

export interface Faults {
  /** Notifications are recorded as dropped and never delivered. */
  dropNotifications: boolean;
  /** Share (0..1) of notifications dropped (recorded as dropped, never delivered). */
  dropNotificationRate: number;
  /** Every delivery attempt is sent twice, concurrently. */
  duplicateNotifications: boolean;
  /** Delay before a notification's first send, in ms. */
  delayNotificationsMs: number;
  /** A further random delay from 0 to this many ms per notification: they arrive out of order. */
  notificationJitterMs: number;
  /** Share (0..1) of queries answered with a signed 500 SYSTEM_ERROR. */
  queryErrorRate: number;
  /** Share (0..1) of queries whose socket is destroyed without an answer. */
  queryTimeoutRate: number;
  /** Share (0..1) of order creations that DO create the trade, then destroy the socket without an answer. */
  createTimeoutRate: number;
  /** Share (0..1) of closes answered with a signed 500 SYSTEM_ERROR, the trade left open. */
  closeErrorRate: number;
  /** Also send a SIGNTEST probe (deliberately invalid signature) with every notification attempt. */
  signtestProbes: boolean;
}

const NO_FAULTS: Readonly<Faults> = Object.freeze({
  dropNotifications: false,
  dropNotificationRate: 0,
  duplicateNotifications: false,
  delayNotificationsMs: 0,
  notificationJitterMs: 0,
  queryErrorRate: 0,
  queryTimeoutRate: 0,
  createTimeoutRate: 0,
  closeErrorRate: 0,
  signtestProbes: false,
});

/** A day: longer than any test waits, short enough that a typo does not park a notification for years. */
const DELAY_NOTIFICATIONS_MS_MAX = 86_400_000;

type FaultKind = 'flag' | 'rate' | 'delay';
const FAULT_KINDS: Record<keyof Faults, FaultKind> = {
  dropNotifications: 'flag',
  dropNotificationRate: 'rate',
  duplicateNotifications: 'flag',
  delayNotificationsMs: 'delay',
  notificationJitterMs: 'delay',
  queryErrorRate: 'rate',
  queryTimeoutRate: 'rate',
  createTimeoutRate: 'rate',
  closeErrorRate: 'rate',
  signtestProbes: 'flag',
};

export type FaultsParse = { ok: true; faults: Faults } | { ok: false; message: string };

/** A PUT body: every field optional, absent ones are off, unknown fields and bad values rejected. */
export function parseFaults(body: unknown): FaultsParse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'body must be a JSON object' };
  const faults: Faults = { ...NO_FAULTS };
  for (const [name, value] of Object.entries(body)) {
    if (!Object.hasOwn(FAULT_KINDS, name)) return { ok: false, message: `unknown fault: ${name}` };
    const key = name as keyof Faults;
    switch (FAULT_KINDS[key]) {
      case 'flag':
        if (typeof value !== 'boolean') return { ok: false, message: `${name} must be a boolean` };
        break;
      case 'rate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) return { ok: false, message: `${name} must be a number from 0 to 1` };
        break;
      case 'delay':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > DELAY_NOTIFICATIONS_MS_MAX) {
          return { ok: false, message: `${name} must be an integer from 0 to ${DELAY_NOTIFICATIONS_MS_MAX}` };
        }
        break;
    }
    (faults as unknown as Record<string, unknown>)[key] = value;
  }
  return { ok: true, faults };
}

export class FaultSwitchboard {
  private active: Faults = { ...NO_FAULTS };

  get current(): Readonly<Faults> {
    return this.active;
  }

  replace(faults: Faults): void {
    this.active = { ...faults };
  }

  clear(): void {
    this.active = { ...NO_FAULTS };
  }

  /** Draws whether a fault with this rate hits the current request. */
  strikes(rate: number): boolean {
    return rate > 0 && Math.random() < rate;
  }
}
