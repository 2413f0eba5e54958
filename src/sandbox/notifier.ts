// Delivers a simulated channel's payment notifications the way the banks do: a POST to the
// trade's notify_url, retried on the channel's real schedule (scaled by timeScale) until the
// channel's acknowledgement comes back, with the state of every notification in the ledger so a
// restarted sandbox, or another sandbox process on the same database, carries on. The channel
// supplies only what differs: its ledger schema, its schedule and timeout, and `send` (how one
// HTTP delivery is signed, and what answer acknowledges it). See ./notification-store.ts for how
// a channel enqueues.
//
// Who sends a row is decided by a lease (lease_owner, lease_until). The process that enqueues or
// reschedules a notification keeps the lease until the attempt is due plus a grace period and
// sends it from an in-process timer, so first sends go out milliseconds after the payment and
// retries on time without polling. A poller takes over rows whose lease lapsed (their process
// died) with FOR UPDATE SKIP LOCKED.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.ts';
import { sendRequest, type HttpAnswer } from '../http/request.ts';
import type { SandboxContext } from './channel.ts';
import type { FaultSwitchboard } from './faults.ts';
import {
  finishNotification,
  leaseDueNotifications,
  releaseNotificationLeases,
  renewNotificationLease,
  rescheduleNotification,
  type NewNotification,
  type Queryable,
} from './notification-store.ts';
import { Semaphore } from '../semaphore.ts';

/** At most this many attempts (each one or two POSTs, plus an optional probe) run at once. */
const MAX_CONCURRENT_ATTEMPTS = 16;
/** Time to record an attempt's result after its send, added to every lease. */
const LEASE_MARGIN_MS = 5_000;
/** A lease with less than the send timeout plus this left is renewed before sending. */
const LEASE_RENEW_MARGIN_MS = 1_000;
/** Poller bounds: the poller only recovers rows orphaned by a dead process, so 1 s is plenty. */
const POLL_INTERVAL_MAX_MS = 1_000;
const POLL_INTERVAL_MIN_MS = 50;
/** A receiver's answer is only read for its status and a short body; a larger one counts as a failed send. */
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

/** One HTTP delivery as the channel judged it; description is kept as the row's last_result. */
export interface SendResult {
  acknowledged: boolean;
  description: string;
}

export interface NotifierOptions {
  db: Queryable;
  log: Logger;
  faults: FaultSwitchboard;
  timeScale: number;
  /** The channel's ledger schema, holding notificationsTableSql(schema). */
  schema: string;
  /** Starts every log line, e.g. "sandbox wechatpay". */
  logLabel: string;
  /** The channel's delay before each retry, in ms at timeScale 1; its length is the number of retries. */
  retryDelaysMs: readonly number[];
  /** A receiver that has not answered by then has failed the attempt. */
  notifyTimeoutMs: number;
  /**
   * One delivery, given up after timeoutMs (the leases are sized for it). A probe (the
   * signtestProbes fault) carries a deliberately invalid signature: a receiver must refuse it,
   * and acknowledging it is logged as the security defect it is.
   */
  send(note: NotificationToSend, options: { probe: boolean; timeoutMs: number }): Promise<SendResult>;
}

/** What a channel brings to its Notifier; the rest comes from the sandbox (SandboxContext). */
export interface ChannelNotifications {
  channel: string;
  schema: string;
  retryDelaysMs: readonly number[];
  /** The channel's own answer timeout; the sandbox's notifyTimeoutMs overrides it when set. */
  notifyTimeoutMs: number;
  send: NotifierOptions['send'];
}

export function channelNotifier(ctx: SandboxContext, c: ChannelNotifications): Notifier {
  return new Notifier({
    db: ctx.db,
    log: ctx.log,
    faults: ctx.faults,
    timeScale: ctx.timeScale,
    schema: c.schema,
    logLabel: `sandbox ${c.channel}`,
    retryDelaysMs: c.retryDelaysMs,
    notifyTimeoutMs: ctx.notifyTimeoutMs ?? c.notifyTimeoutMs,
    send: c.send,
  });
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
    const firstRetryDelayMs = opts.retryDelaysMs[0];
    if (firstRetryDelayMs === undefined) throw new Error(`${opts.logLabel}: the notification retry schedule is empty`);
    // Orphaned rows wait at most about one (scaled) retry interval before a poller finds them.
    this.pollIntervalMs = Math.min(POLL_INTERVAL_MAX_MS, Math.max(POLL_INTERVAL_MIN_MS, firstRetryDelayMs * opts.timeScale));
  }

  get notifyTimeoutMs(): number {
    return this.opts.notifyTimeoutMs;
  }

  /** How long a lease must outlast the moment an attempt is due. */
  get leaseGraceMs(): number {
    return this.opts.notifyTimeoutMs + LEASE_MARGIN_MS;
  }

  /**
   * The ledger row of a notification the channel creates now, under the faults in force: dropped
   * (never sent), or pending with this process holding the lease until its first attempt is over.
   */
  newNotification(id: string, body: string, now: Date): NewNotification {
    const { faults } = this.opts;
    const fault = faults.current;
    if (fault.dropNotifications || faults.strikes(fault.dropNotificationRate)) {
      return { id, body, state: 'dropped', nextAttemptAt: now, leaseOwner: null, leaseUntil: null, createdAt: now };
    }
    const jitterMs = fault.notificationJitterMs > 0 ? Math.floor(Math.random() * fault.notificationJitterMs) : 0;
    const firstAttemptMs = now.getTime() + fault.delayNotificationsMs + jitterMs;
    return {
      id,
      body,
      state: 'pending',
      nextAttemptAt: new Date(firstAttemptMs),
      leaseOwner: this.owner,
      leaseUntil: new Date(firstAttemptMs + this.leaseGraceMs),
      createdAt: now,
    };
  }

  /** Once the row from newNotification() is committed: starts its first attempt's timer (none if dropped). */
  enqueued(row: NewNotification, notifyUrl: string): void {
    if (row.state !== 'pending' || row.leaseUntil === null) return;
    this.schedule(
      { id: row.id, notifyUrl, body: row.body, attempts: 0, leaseUntilMs: row.leaseUntil.getTime() },
      row.nextAttemptAt.getTime(),
    );
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
    await releaseNotificationLeases(this.opts.db, this.opts.schema, waiting, this.owner).catch((err: unknown) =>
      this.opts.log.warn({ err }, `${this.opts.logLabel}: could not release notification leases; they lapse on their own`),
    );
  }

  /** Attempts the notification at atMs; the caller holds the lease (it just wrote the row). */
  private schedule(note: NotificationToSend, atMs: number): void {
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
        const due = await leaseDueNotifications(this.opts.db, this.opts.schema, {
          owner: this.owner, now: new Date(nowMs), leaseUntil: new Date(leaseUntilMs), limit,
        });
        for (const row of due) this.track(this.attempt({ ...row, leaseUntilMs }));
      }
    } catch (err) {
      this.opts.log.warn({ err }, `${this.opts.logLabel}: polling due notifications failed; retrying`);
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
    const { db, log, faults, schema, logLabel } = this.opts;
    try {
      if (this.stopping) {
        await releaseNotificationLeases(db, schema, [scheduled.id], this.owner);
        return;
      }
      const note = await this.ensureLease(scheduled);
      if (!note) return; // finished, or taken over by another process after our lease lapsed
      const fault = faults.current;
      if (fault.dropNotifications) {
        await finishNotification(db, schema, note.id, this.owner, {
          state: 'dropped', attempted: false, sends: 0, lastResult: 'dropped by the dropNotifications fault', now: new Date(),
        });
        return;
      }
      const copies = fault.duplicateNotifications ? 2 : 1;
      const [results] = await Promise.all([
        Promise.all(Array.from({ length: copies }, () => this.opts.send(note, { probe: false, timeoutMs: this.opts.notifyTimeoutMs }))),
        fault.signtestProbes ? this.probe(note) : undefined,
      ]);
      const acknowledged = results.some((r) => r.acknowledged);
      const lastResult = results.map((r) => r.description).join('; ');
      const attemptsMade = note.attempts + 1;
      const retryDelayMs = this.opts.retryDelaysMs[attemptsMade - 1];
      if (acknowledged || retryDelayMs === undefined) {
        await finishNotification(db, schema, note.id, this.owner, {
          state: acknowledged ? 'acknowledged' : 'failed', attempted: true, sends: copies, lastResult, now: new Date(),
        });
        if (acknowledged) log.debug({ notificationId: note.id, attempts: attemptsMade }, `${logLabel}: notification acknowledged`);
        else log.warn({ notificationId: note.id, lastResult }, `${logLabel}: notification retry schedule exhausted; giving up`);
        return;
      }
      const nextAttemptMs = Date.now() + retryDelayMs * this.opts.timeScale;
      // A stopping sandbox leaves the retry to whichever process polls next, without waiting for a lease.
      const leaseUntilMs = this.stopping ? null : nextAttemptMs + this.leaseGraceMs;
      await rescheduleNotification(db, schema, note.id, this.owner, {
        sends: copies,
        lastResult,
        nextAttemptAt: new Date(nextAttemptMs),
        leaseUntil: leaseUntilMs === null ? null : new Date(leaseUntilMs),
      });
      log.debug({ notificationId: note.id, attempts: attemptsMade, lastResult }, `${logLabel}: notification not acknowledged; retry scheduled`);
      if (leaseUntilMs !== null) this.schedule({ ...note, attempts: attemptsMade, leaseUntilMs }, nextAttemptMs);
    } catch (err) {
      log.error({ err, notificationId: scheduled.id }, `${logLabel}: notification attempt failed; its lease lapses and a poller retries it`);
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
    const row = await renewNotificationLease(this.opts.db, this.opts.schema, note.id, {
      owner: this.owner, now: new Date(nowMs), leaseUntil: new Date(leaseUntilMs),
    });
    return row && { ...row, leaseUntilMs };
  }

  /** Acknowledging a notification whose signature cannot verify is a security defect (channels.md §1.3): logged loudly. */
  private async probe(note: NotificationToSend): Promise<void> {
    const result = await this.opts.send(note, { probe: true, timeoutMs: this.opts.notifyTimeoutMs });
    if (result.acknowledged) {
      this.opts.log.warn(
        { notificationId: note.id, notifyUrl: note.notifyUrl, result: result.description },
        `${this.opts.logLabel}: receiver ACCEPTED a probe notification whose signature is invalid`,
      );
    }
  }
}

/**
 * One POST of a notification body. Never follows redirects: the banks treat a 3xx as "not
 * acknowledged" too. `judge` applies the channel's acknowledgement rule to an answer.
 */
export async function postNotification(
  notifyUrl: string,
  request: { headers: Record<string, string>; body: string; timeoutMs: number },
  judge: (answer: HttpAnswer) => SendResult,
): Promise<SendResult> {
  const result = await sendRequest(new URL(notifyUrl), {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    timeoutMs: request.timeoutMs,
    maxResponseBytes: NOTIFY_ANSWER_BYTES_MAX,
  });
  switch (result.kind) {
    case 'answer':
      return judge(result);
    case 'timeout':
      return { acknowledged: false, description: `no answer within ${request.timeoutMs} ms` };
    case 'network_error':
      return { acknowledged: false, description: `connection failed: ${result.detail}` };
  }
}
