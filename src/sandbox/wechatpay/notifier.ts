// Delivers payment notifications the way WeChat does (channels.md §1.5): signed POST to the
// trade's notify_url, 200/204 within the timeout acknowledges, anything else retries on the real
// schedule (scaled), and the state of every notification lives in the ledger so a restarted
// sandbox, or another sandbox process on the same database, carries on.
//
// Who sends a row is decided by a lease (lease_owner, lease_until). The process that enqueues or
// reschedules a notification keeps the lease until the attempt is due plus a grace period and
// sends it from an in-process timer, so first sends go out milliseconds after the payment and
// retries on time without polling. A poller takes over rows whose lease lapsed (their process
// died) with FOR UPDATE SKIP LOCKED.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.ts';
import type { FaultSwitchboard } from '../faults.ts';
import { Semaphore } from '../semaphore.ts';
import { sendRequest } from '../../http/request.ts';
import {
  AUTHORIZATION_SCHEME,
  platformSignatureHeaders,
  signtestProbeHeaders,
  type PlatformSigner,
} from './signing.ts';
import {
  finishNotification,
  leaseDueNotifications,
  releaseNotificationLeases,
  renewNotificationLease,
  rescheduleNotification,
  type Queryable,
} from './store.ts';
import { newHexToken } from './wire-format.ts';

/** WeChat's retry delays after each failed attempt (§1.5), at timeScale 1: 15 retries over 24 h 4 min. */
const NOTIFICATION_RETRY_DELAYS_MS: readonly number[] = [
  15_000, 15_000, 30_000, 180_000, 600_000, 1_200_000, 1_800_000, 1_800_000, 1_800_000, 3_600_000,
  10_800_000, 10_800_000, 10_800_000, 21_600_000, 21_600_000,
];
/** At most this many attempts (each one or two POSTs, plus an optional probe) run at once. */
const MAX_CONCURRENT_ATTEMPTS = 16;
/** Time to record an attempt's result after its send, added to every lease. */
const LEASE_MARGIN_MS = 5_000;
/** A lease with less than the send timeout plus this left is renewed before sending. */
const LEASE_RENEW_MARGIN_MS = 1_000;
/** Poller bounds: the poller only recovers rows orphaned by a dead process, so 1 s is plenty. */
const POLL_INTERVAL_MAX_MS = 1_000;
const POLL_INTERVAL_MIN_MS = 50;
/** A receiver's answer is only read for its status; a larger one counts as a failed send. */
const NOTIFY_ANSWER_BYTES_MAX = 64 * 1024;

export interface NotificationToSend {
  id: string;
  notifyUrl: string;
  body: string;
  /** Attempts already made. */
  attempts: number;
  /** When this process's lease on the row ends (epoch ms). */
  leaseUntilMs: number;
}

export interface NotifierOptions {
  db: Queryable;
  log: Logger;
  faults: FaultSwitchboard;
  signer: PlatformSigner;
  timeScale: number;
  notifyTimeoutMs: number;
}

interface SendResult {
  acknowledged: boolean;
  description: string;
}

export class Notifier {
  /** This process's name in lease_owner. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly slots = new Semaphore(MAX_CONCURRENT_ATTEMPTS);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Notifications with an attempt under way here: a late timer and the poller never both send one. */
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pollIntervalMs: number;
  private pollTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopping = false;

  constructor(private readonly opts: NotifierOptions) {
    this.pollIntervalMs = Math.min(POLL_INTERVAL_MAX_MS, Math.max(POLL_INTERVAL_MIN_MS, 15_000 * opts.timeScale));
  }

  /** How long a lease must outlast the moment an attempt is due. */
  get leaseGraceMs(): number {
    return this.opts.notifyTimeoutMs + LEASE_MARGIN_MS;
  }

  /** Sends whatever is due and unleased now (work left by a crashed process), then keeps polling. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const firstPoll = this.poll();
    this.track(firstPoll);
    await firstPoll;
  }

  /** Stops polling, waits for attempts under way, and hands back the leases of waiting timers. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.pollTimer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const waiting = [...this.timers.keys()];
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await releaseNotificationLeases(this.opts.db, waiting, this.owner).catch((err: unknown) =>
      this.opts.log.warn({ err }, 'sandbox wechatpay: could not release notification leases; they lapse on their own'),
    );
  }

  /** Attempts the notification at atMs; the caller holds the lease (it just wrote the row). */
  schedule(note: NotificationToSend, atMs: number): void {
    clearTimeout(this.timers.get(note.id));
    const timer = setTimeout(() => {
      this.timers.delete(note.id);
      this.track(this.attempt(note));
    }, Math.max(0, atMs - Date.now()));
    timer.unref();
    this.timers.set(note.id, timer);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async poll(): Promise<void> {
    try {
      const limit = this.slots.free;
      if (limit > 0 && !this.stopping) {
        const nowMs = Date.now();
        const leaseUntilMs = nowMs + this.leaseGraceMs;
        const due = await leaseDueNotifications(this.opts.db, this.owner, new Date(nowMs), new Date(leaseUntilMs), limit);
        for (const row of due) this.track(this.attempt({ ...row, leaseUntilMs }));
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'sandbox wechatpay: polling due notifications failed; retrying');
    } finally {
      if (!this.stopping) {
        // Tracked like an attempt: stop() must not return while a poll may still lease rows.
        this.pollTimer = setTimeout(() => this.track(this.poll()), this.pollIntervalMs);
        this.pollTimer.unref();
      }
    }
  }

  private async attempt(scheduled: NotificationToSend): Promise<void> {
    if (this.busy.has(scheduled.id)) return;
    this.busy.add(scheduled.id);
    const release = await this.slots.acquire();
    const { db, log, faults } = this.opts;
    try {
      if (this.stopping) {
        await releaseNotificationLeases(db, [scheduled.id], this.owner);
        return;
      }
      const note = await this.ensureLease(scheduled);
      if (!note) return; // finished, or taken over by another process after our lease lapsed
      const fault = faults.current;
      if (fault.dropNotifications) {
        await finishNotification(db, note.id, this.owner, {
          state: 'dropped', attempted: false, sends: 0, lastResult: 'dropped by the dropNotifications fault', now: new Date(),
        });
        return;
      }
      const copies = fault.duplicateNotifications ? 2 : 1;
      const [results] = await Promise.all([
        Promise.all(Array.from({ length: copies }, () => this.post(note, false))),
        fault.signtestProbes ? this.probe(note) : undefined,
      ]);
      const acknowledged = results.some((r) => r.acknowledged);
      const lastResult = results.map((r) => r.description).join('; ');
      const attemptsMade = note.attempts + 1;
      const retryDelayMs = NOTIFICATION_RETRY_DELAYS_MS[attemptsMade - 1];
      if (acknowledged || retryDelayMs === undefined) {
        await finishNotification(db, note.id, this.owner, {
          state: acknowledged ? 'acknowledged' : 'failed', attempted: true, sends: copies, lastResult, now: new Date(),
        });
        if (acknowledged) log.debug({ notificationId: note.id, attempts: attemptsMade }, 'sandbox wechatpay: notification acknowledged');
        else log.warn({ notificationId: note.id, lastResult }, 'sandbox wechatpay: notification retry schedule exhausted; giving up');
        return;
      }
      const nextAttemptMs = Date.now() + retryDelayMs * this.opts.timeScale;
      // A stopping sandbox leaves the retry to whichever process polls next, without waiting for a lease.
      const leaseUntilMs = this.stopping ? null : nextAttemptMs + this.leaseGraceMs;
      await rescheduleNotification(db, note.id, this.owner, {
        sends: copies,
        lastResult,
        nextAttemptAt: new Date(nextAttemptMs),
        leaseUntil: leaseUntilMs === null ? null : new Date(leaseUntilMs),
      });
      log.debug({ notificationId: note.id, attempts: attemptsMade, lastResult }, 'sandbox wechatpay: notification not acknowledged; retry scheduled');
      if (leaseUntilMs !== null) this.schedule({ ...note, attempts: attemptsMade, leaseUntilMs }, nextAttemptMs);
    } catch (err) {
      log.error({ err, notificationId: scheduled.id }, 'sandbox wechatpay: notification attempt failed; its lease lapses and a poller retries it');
    } finally {
      release();
      this.busy.delete(scheduled.id);
    }
  }

  /** The row with a lease long enough for one send; renewed (one statement) only after a long wait for a slot. */
  private async ensureLease(note: NotificationToSend): Promise<NotificationToSend | undefined> {
    const nowMs = Date.now();
    if (note.leaseUntilMs - nowMs >= this.opts.notifyTimeoutMs + LEASE_RENEW_MARGIN_MS) return note;
    const leaseUntilMs = nowMs + this.leaseGraceMs;
    const row = await renewNotificationLease(this.opts.db, note.id, this.owner, new Date(nowMs), new Date(leaseUntilMs));
    return row && { ...row, leaseUntilMs };
  }

  private async post(note: NotificationToSend, signtestProbe: boolean): Promise<SendResult> {
    const { signer, notifyTimeoutMs } = this.opts;
    const nowMs = Date.now();
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': 'paycenter-sandbox-wechatpay',
      'Request-ID': newHexToken(),
      'Wechatpay-Signature-Type': AUTHORIZATION_SCHEME,
      ...(signtestProbe ? signtestProbeHeaders(signer, nowMs) : await platformSignatureHeaders(signer, note.body, nowMs)),
    };
    // Never follows redirects: WeChat treats a 3xx as "not acknowledged" too.
    const result = await sendRequest(new URL(note.notifyUrl), {
      method: 'POST',
      headers,
      body: note.body,
      timeoutMs: notifyTimeoutMs,
      maxResponseBytes: NOTIFY_ANSWER_BYTES_MAX,
    });
    switch (result.kind) {
      case 'answer':
        return { acknowledged: result.status === 200 || result.status === 204, description: `HTTP ${result.status}` };
      case 'timeout':
        return { acknowledged: false, description: `no answer within ${notifyTimeoutMs} ms` };
      case 'network_error':
        return { acknowledged: false, description: `connection failed: ${result.detail}` };
    }
  }

  /** Answering 2xx to a probe is the security defect WeChat flags (§1.3); the sandbox logs it loudly. */
  private async probe(note: NotificationToSend): Promise<void> {
    const result = await this.post(note, true);
    if (result.acknowledged) {
      this.opts.log.warn(
        { notificationId: note.id, notifyUrl: note.notifyUrl, result: result.description },
        'sandbox wechatpay: receiver ACCEPTED a WECHATPAY/SIGNTEST probe whose signature is invalid',
      );
    }
  }
}
