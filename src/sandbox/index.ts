// The sandbox: an offline simulator of the payment channels ("the bank"), written from the
// protocol brief (shared/channels.md) and never from Paycenter's adapters, so that a protocol
// test between the two means something. Its ledger lives in its own schemas, so the bank still
// knows the truth after Paycenter is killed.
import { fastify, type FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { alipaySandbox } from './alipay/index.ts';
import { unionpaySandbox } from './unionpay/index.ts';
import type { SimulatedChannel } from './channel.ts';
import { controlRoutes } from './control-routes.ts';
import { walletRoutes } from './wallet.ts';
import { FaultSwitchboard } from './faults.ts';
import { BillPlants } from './bill-plants.ts';
import { wechatpaySandbox } from './wechatpay/index.ts';

/** The simulated channels, in the order /sandbox/pay asks them. Adding a channel is adding it here. */
const CHANNELS: readonly SimulatedChannel[] = [wechatpaySandbox, alipaySandbox, unionpaySandbox];

export interface SandboxOptions {
  pool: pg.Pool;
  log: Logger;
  /** Factor applied to the channels' real notification retry schedules, e.g. 0.001 for tests. */
  timeScale: number;
  /** A notification not answered within this is a failed attempt. Default: each channel's real limit. */
  notifyTimeoutMs?: number;
}

export interface Sandbox {
  /** Adds the sandbox routes to an existing Fastify instance (in encapsulated plugins). */
  register(app: FastifyInstance): Promise<void>;
  /** Resumes notifications left pending in the ledger (by a crash or another process), then keeps polling. */
  start(): Promise<void>;
  /** Stops timers and polling, waits for sends under way, hands pending notifications back to the ledger. */
  stop(): Promise<void>;
}

const STANDALONE_POOL_SIZE = 10;

/** Idempotent, and safe when several processes run it at once (advisory lock). */
export async function migrateSandbox(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('paycenter.sandbox.migrate'))`);
    for (const channel of CHANNELS) await client.query(channel.migrationSql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export function createSandbox(opts: SandboxOptions): Sandbox {
  const { pool, log, timeScale, notifyTimeoutMs } = opts;
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new Error(`sandbox timeScale must be a positive number, got ${timeScale}`);
  if (notifyTimeoutMs !== undefined && !(Number.isInteger(notifyTimeoutMs) && notifyTimeoutMs > 0)) {
    throw new Error(`sandbox notifyTimeoutMs must be a positive integer, got ${notifyTimeoutMs}`);
  }
  const faults = new FaultSwitchboard();
  const billPlants = new BillPlants();
  const refundFailures = new Set<string>();
  const channels = CHANNELS.map((channel) =>
    channel.create({ db: pool, log, faults, timeScale, notifyTimeoutMs, billPlants, refundFailures }),
  );

  return {
    async register(app) {
      for (const channel of channels) await channel.register(app);
      await app.register(controlRoutes({ channels: channels.map((c) => c.control), faults, billPlants, refundFailures }));
      await app.register(walletRoutes({ db: pool, channels: channels.map((c) => c.control) }));
    },

    async start() {
      for (const channel of channels) await channel.start();
      log.info({ timeScale, channels: CHANNELS.map((c) => c.name) }, 'sandbox started');
    },

    async stop() {
      await Promise.all(channels.map((channel) => channel.stop()));
    },
  };
}

/** The sandbox on its own HTTP server and pool (`paycenter sandbox --port N`). */
export async function startStandaloneSandbox(opts: {
  host: string;
  port: number;
  connectionString: string;
  timeScale: number;
  log: Logger;
}): Promise<{ url: string; close(): Promise<void> }> {
  const { log } = opts;
  const pool = new pg.Pool({ connectionString: opts.connectionString, max: STANDALONE_POOL_SIZE, application_name: 'paycenter-sandbox' });
  // A connection dropped by the server must not crash the process: an idle one is replaced by the
  // pool; one checked out (a refund's transaction) fails its next query, which rolls it back.
  pool.on('error', (err) => log.warn({ error: err.message }, 'sandbox: idle database connection failed'));
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ error: err.message }, 'sandbox: database connection failed')));
  const app = fastify({ logger: false });
  const sandbox = createSandbox({ pool, log, timeScale: opts.timeScale });
  try {
    await migrateSandbox(pool);
    await sandbox.register(app);
    await app.listen({ host: opts.host, port: opts.port });
    await sandbox.start();
  } catch (err) {
    await app.close().catch(() => undefined);
    await sandbox.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  log.info({ url }, 'sandbox listening');
  return {
    url,
    async close() {
      // Requests first (a late /sandbox/pay would enqueue work), then the notifier, then the pool.
      await app.close();
      await sandbox.stop();
      await pool.end();
    },
  };
}
