// The shape of a simulated channel: what createSandbox runs (SimulatedChannel, ChannelSandbox),
// and what the channel-agnostic control API (/sandbox/pay, /sandbox/ledger) needs from it
// (SandboxChannel). A test names a trade by its out_trade_no only; each channel looks it up in
// its ledger.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import type { FaultSwitchboard } from './faults.ts';
import type { BillPlants } from './bill-plants.ts';

/** One trade as the bank's ledger knows it; times are ISO 8601 (UTC). */
export interface LedgerTrade {
  channel: string;
  mchId: string;
  outTradeNo: string;
  transactionId: string | null;
  /** Normalized: paid, not_paid or closed; channelState keeps the channel's own word. */
  state: 'paid' | 'not_paid' | 'closed';
  channelState: string;
  /** Minor units (fen). */
  amount: number;
  currency: string;
  createdAt: string;
  paidAt: string | null;
  closedAt: string | null;
  timeExpire: string | null;
  /** HTTP requests made to the notify_url (a duplicated delivery counts two; SIGNTEST probes do not count). */
  notificationsSent: number;
  notificationsAcknowledged: number;
  notificationsDropped: number;
}

/** A trade as a channel's store lists it: LedgerTrade's facts with times as Dates and the state in the channel's word. */
export interface LedgerEntry<ChannelState extends string> {
  mchId: string;
  outTradeNo: string;
  transactionId: string | null;
  channelState: ChannelState;
  amount: number;
  currency: string;
  createdAt: Date;
  paidAt: Date | null;
  closedAt: Date | null;
  timeExpire: Date | null;
  notificationsSent: number;
  notificationsAcknowledged: number;
  notificationsDropped: number;
}

/** The control API's form of a ledger entry; `normalized` says what each of the channel's states means. */
export function toLedgerTrade<ChannelState extends string>(
  channel: string,
  normalized: Readonly<Record<ChannelState, LedgerTrade['state']>>,
  entry: LedgerEntry<ChannelState>,
): LedgerTrade {
  return {
    ...entry,
    channel,
    state: normalized[entry.channelState],
    createdAt: entry.createdAt.toISOString(),
    paidAt: entry.paidAt?.toISOString() ?? null,
    closedAt: entry.closedAt?.toISOString() ?? null,
    timeExpire: entry.timeExpire?.toISOString() ?? null,
  };
}

export type PayRefusal = 'trade_closed' | 'trade_expired' | 'trade_paid';

export type PayResult =
  | { outcome: 'paid'; trade: LedgerTrade }
  | { outcome: 'refused'; code: PayRefusal; message: string }
  | { outcome: 'not_found' }
  /** Several merchants hold this out_trade_no and the caller named none. */
  | { outcome: 'ambiguous'; mchIds: string[] };

/** A trade the control API named by its out_trade_no, and by the merchant only when several hold it. */
export type TradeLookup<Trade> = { outcome: 'found'; trade: Trade } | { outcome: 'not_found' } | { outcome: 'ambiguous'; mchIds: string[] };

/** `trades` are every merchant's trade of one out_trade_no (of the named merchant's, if one was named). */
export function lookUpTrade<Trade>(trades: Trade[], mchIdOf: (trade: Trade) => string): TradeLookup<Trade> {
  const [trade] = trades;
  if (!trade) return { outcome: 'not_found' };
  if (trades.length > 1) return { outcome: 'ambiguous', mchIds: trades.map(mchIdOf) };
  return { outcome: 'found', trade };
}

/** One refund as the bank's ledger knows it (the schema's `refunds` view); times ISO 8601. */
export interface LedgerRefund {
  channel: string;
  mchId: string;
  outTradeNo: string;
  outRefundNo: string;
  /** Fen. */
  amount: number;
  state: 'processing' | 'succeeded' | 'failed';
  acceptedAt: string;
  finishedAt: string | null;
}

export interface SandboxChannel {
  readonly name: string;
  /** The refunds the bank holds, of one trade or all (oldest first). */
  refunds(filter: { outTradeNo: string | undefined; limit: number }): Promise<LedgerRefund[]>;
  /** The buyer pays the trade; enqueues and starts sending the payment notification. */
  pay(outTradeNo: string, mchId: string | undefined): Promise<PayResult>;
  ledger(filter: { outTradeNo: string | undefined; limit: number }): Promise<LedgerTrade[]>;
}

/** What every simulated channel gets from createSandbox. */
export interface SandboxContext {
  db: pg.Pool;
  log: Logger;
  faults: FaultSwitchboard;
  /** Factor applied to the channels' real notification retry schedules, e.g. 0.001 for tests. */
  timeScale: number;
  /** Overrides every channel's own notification answer timeout (its real limit) when set. */
  notifyTimeoutMs: number | undefined;
  /** Planted bill differences, applied by each channel when it renders a day's bill. */
  billPlants: BillPlants;
  /** out_trade_nos whose refunds the bank fails from now on (POST /sandbox/refund-failures). */
  refundFailures: ReadonlySet<string>;
}

/** One simulated channel as createSandbox runs it. */
export interface ChannelSandbox {
  /** Adds the channel's routes (its API, merchant registration, its own control routes). */
  register(app: FastifyInstance): Promise<void>;
  /** Resumes notifications left pending in the ledger (by a crash or another process), then keeps polling. */
  start(): Promise<void>;
  /** Stops timers and polling, waits for sends under way, hands pending notifications back to the ledger. */
  stop(): Promise<void>;
  /** The channel's side of /sandbox/pay and /sandbox/ledger. */
  readonly control: SandboxChannel;
}

/** A simulated channel as a module: its ledger schema, and how to run it. */
export interface SimulatedChannel {
  readonly name: string;
  /** Creates or updates the channel's ledger schema; idempotent; migrateSandbox runs it inside its transaction. */
  readonly migrationSql: string;
  /** No I/O here: keys are read from the ledger on first use, so creating a sandbox cannot fail on the database. */
  create(ctx: SandboxContext): ChannelSandbox;
}
