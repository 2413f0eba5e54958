// The sandbox: an offline simulator of the payment channels ("the bank"), written from the
// protocol brief (shared/channels.md) and never from Paycenter's adapters, so that a protocol
// test between the two means something. Its ledger lives in its own schemas, so the bank still
// knows the truth after Paycenter is killed.
import { fastify, type FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import type { SandboxChannel } from './channel.ts';
import { controlRoutes } from './control-routes.ts';
import { FaultSwitchboard } from './faults.ts';
import { WECHATPAY_API_PREFIX, wechatpayApiRoutes } from './wechatpay/api-routes.ts';
import { createWechatpayControl } from './wechatpay/control.ts';
import { wechatpayMerchantRoutes } from './wechatpay/merchant-routes.ts';
import { MerchantDirectory } from './wechatpay/merchants.ts';
import { Notifier } from './wechatpay/notifier.ts';
import { loadOrCreatePlatformKey, type PlatformKey } from './wechatpay/platform-key.ts';
import { migrateWechatpayLedger } from './wechatpay/store.ts';

export interface SandboxOptions {
  pool: pg.Pool;
  log: Logger;
  /** Factor applied to the channels' real notification retry schedules, e.g. 0.001 for tests. */
  timeScale: number;
  /** A notification not answered within this is a failed attempt. Default 5000, WeChat's limit. */
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

const NOTIFY_TIMEOUT_MS_DEFAULT = 5_000;
const STANDALONE_POOL_SIZE = 10;

/** Idempotent, and safe when several processes run it at once (advisory lock). */
export async function migrateSandbox(pool: pg.Pool): Promise<void> {
  await migrateWechatpayLedger(pool);
}

export function createSandbox(opts: SandboxOptions): Sandbox {
  const { pool, log, timeScale } = opts;
  const notifyTimeoutMs = opts.notifyTimeoutMs ?? NOTIFY_TIMEOUT_MS_DEFAULT;
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new Error(`sandbox timeScale must be a positive number, got ${timeScale}`);
  if (!(Number.isInteger(notifyTimeoutMs) && notifyTimeoutMs > 0)) {
    throw new Error(`sandbox notifyTimeoutMs must be a positive integer, got ${notifyTimeoutMs}`);
  }
  const faults = new FaultSwitchboard();
  const merchants = new MerchantDirectory(pool);

  // The platform key comes from the ledger, so the parts that sign are built on first use.
  interface Parts {
    platformKey: PlatformKey;
    notifier: Notifier;
    channels: SandboxChannel[];
  }
  let parts: Promise<Parts> | undefined;
  const assemble = (): Promise<Parts> =>
    (parts ??= (async () => {
      const platformKey = await loadOrCreatePlatformKey(pool);
      const notifier = new Notifier({ db: pool, log, faults, signer: platformKey, timeScale, notifyTimeoutMs });
      const wechatpay = createWechatpayControl({ db: pool, log, merchants, notifier, faults });
      return { platformKey, notifier, channels: [wechatpay] };
    })().catch((err: unknown) => {
      parts = undefined;
      throw err;
    }));

  return {
    async register(app) {
      const { platformKey, channels } = await assemble();
      await app.register(wechatpayApiRoutes({ db: pool, log, merchants, signer: platformKey, faults }), {
        prefix: WECHATPAY_API_PREFIX,
      });
      await app.register(wechatpayMerchantRoutes({ merchants, platformKey }));
      await app.register(controlRoutes({ channels, faults }));
    },

    async start() {
      const { notifier, platformKey } = await assemble();
      await notifier.start();
      log.info({ timeScale, notifyTimeoutMs, platformPublicKeyId: platformKey.keyId }, 'sandbox started');
    },

    async stop() {
      if (parts) await (await parts).notifier.stop();
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
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', (err) => log.warn({ error: err.message }, 'sandbox: idle database connection failed'));
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
