// One typed configuration, resolved once at start-up from a JSON file (PAYCENTER_CONFIG) and
// environment variables (which win). Every bad value stops start-up with the key and the reason.
import { readFileSync, existsSync } from 'node:fs';
import { ConfigError, int, msList, num, oneOf, optionalApiKey, optionalUrl, parseOnOff, str, type Source } from './config/read.ts';
import { parseWechatpay, type WechatpayConfig } from './config/wechatpay.ts';
import { parseAlipay, type AlipayConfig } from './config/alipay.ts';
import { parseUnionpay, type UnionpayConfig } from './config/unionpay.ts';
import { DEFAULT_DELIVERY_SCHEDULE_MS } from './domain/delivery-schedule.ts';
import { isWebhookSecret } from './domain/webhook-signature.ts';
import { parseCrontab } from 'graphile-worker';
import { REFUND_QUERY_DELAYS_MS } from './domain/refunds.ts';
import { passwordProblem } from './domain/operators.ts';

export { ConfigError, parseAlipay, parseUnionpay, parseWechatpay, type AlipayConfig, type UnionpayConfig, type WechatpayConfig };

export interface DeliveryConfig {
  /** Delays between delivery attempts, in ms; after the last one the delivery is dead. */
  scheduleMs: number[];
  /** One attempt's limit (webhook answer, broker confirm). */
  timeoutMs: number;
  /** Deliveries in flight at once per process. */
  concurrency: number;
  /** How often a process looks for deliveries it was not woken for. */
  pollIntervalMs: number;
  /** A webhook endpoint for the default app, made (or updated) at start-up. */
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  amqp: { url: string; exchange: string } | undefined;
  nats: { url: string; stream: string } | undefined;
}

export interface Config {
  port: number;
  host: string;
  /** Unset: embedded PostgreSQL in dataDir. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  dataDir: string;
  apiKey: string | undefined;
  /** The console's first admin's password; unset: one is generated and printed once at the first start. */
  adminPassword: string | undefined;
  /** Console session cookies marked Secure (set when Paycenter is served over HTTPS). */
  consoleSecureCookies: boolean;
  /** Delays after the attempt's creation, in ms, at which the active query runs. */
  queryScheduleMs: number[] | undefined;
  /** After the schedule: how often an EXCEPTION order keeps being queried. */
  exceptionQueryIntervalMs: number;
  /** How long an EXCEPTION order keeps being queried before only an operator can act. */
  exceptionQueryWindowMs: number;
  orderTtlMs: number;
  duplicateWindowMs: number;
  /** Delays between a refund's queries; the last repeats. */
  refundQueryScheduleMs: readonly number[];
  latePayments: 'refund' | 'accept';
  sandbox: boolean;
  sandboxTimeScale: number;
  channels: { wechatpay?: WechatpayConfig; alipay?: AlipayConfig; unionpay?: UnionpayConfig };
  logLevel: string;
  /** Connections in the PostgreSQL pool used by the API and services. */
  databasePoolSize: number;
  workerConcurrency: number;
  /** How often the job runner looks for jobs that became due (new jobs wake it at once). */
  workerPollIntervalMs: number;
  /** A job locked longer than this is taken from the (dead) process that holds it. */
  jobLockTimeoutMs: number;
  /** When the daily reconciliation of yesterday's bills runs: a cron expression in UTC (graphile-worker's clock). */
  reconcileCron: string;
  delivery: DeliveryConfig;
}


function optionalAdminPassword(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ConfigError('PAYCENTER_ADMIN_PASSWORD', 'must be a string');
  const problem = passwordProblem(value, 'admin');
  if (problem) throw new ConfigError('PAYCENTER_ADMIN_PASSWORD', problem);
  return value;
}

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
/** 72 h lets Friday's stuck payment be resolved on Monday. */
const EXCEPTION_QUERY_WINDOW_MS = 72 * 60 * 60 * 1000;

/** Reads the JSON file named by PAYCENTER_CONFIG (if any) and overlays the environment. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let file: Source = {};
  const path = env.PAYCENTER_CONFIG;
  if (path) {
    if (!existsSync(path)) throw new ConfigError('PAYCENTER_CONFIG', `file ${path} does not exist`);
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as Source;
    } catch (err) {
      throw new ConfigError('PAYCENTER_CONFIG', `file ${path} is not valid JSON (${(err as Error).message})`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new ConfigError('PAYCENTER_CONFIG', `file ${path} must hold a JSON object`);
    }
  }
  return resolveConfig(file, env);
}

export function resolveConfig(file: Source, env: NodeJS.ProcessEnv): Config {
  const pick = (key: string): unknown => (env[key] !== undefined && env[key] !== '' ? env[key] : file[key]);
  const channels = parseChannels(file.channels);
  const sandboxSetting = pick('PAYCENTER_SANDBOX');
  const sandbox =
    sandboxSetting === undefined ? Object.keys(channels).length === 0 : parseOnOff('PAYCENTER_SANDBOX', sandboxSetting);
  const orderTtlMs = int('PAYCENTER_ORDER_TTL_MS', pick('PAYCENTER_ORDER_TTL_MS'), FIFTEEN_MINUTES_MS, 60_000, 90 * 86_400_000);
  const schedule = pick('PAYCENTER_QUERY_SCHEDULE');
  const refundSchedule = pick('PAYCENTER_REFUND_QUERY_SCHEDULE');
  const config: Config = {
    port: int('PORT', pick('PORT'), 8080, 0, 65535),
    host: str('HOST', pick('HOST'), '127.0.0.1'),
    databaseUrl: optionalUrl('DATABASE_URL', pick('DATABASE_URL'), ['postgres:', 'postgresql:']),
    redisUrl: optionalUrl('REDIS_URL', pick('REDIS_URL'), ['redis:', 'rediss:']),
    dataDir: str('PAYCENTER_DATA_DIR', pick('PAYCENTER_DATA_DIR'), './.paycenter'),
    apiKey: optionalApiKey(pick('PAYCENTER_API_KEY')),
    adminPassword: optionalAdminPassword(pick('PAYCENTER_ADMIN_PASSWORD')),
    consoleSecureCookies: parseOnOff('PAYCENTER_CONSOLE_SECURE_COOKIES', pick('PAYCENTER_CONSOLE_SECURE_COOKIES') ?? 'off'),
    queryScheduleMs: schedule === undefined ? undefined : msList('PAYCENTER_QUERY_SCHEDULE', schedule),
    refundQueryScheduleMs: refundSchedule === undefined ? REFUND_QUERY_DELAYS_MS : msList('PAYCENTER_REFUND_QUERY_SCHEDULE', refundSchedule),
    latePayments: oneOf('PAYCENTER_LATE_PAYMENTS', pick('PAYCENTER_LATE_PAYMENTS'), 'refund', ['refund', 'accept']) as Config['latePayments'],
    exceptionQueryIntervalMs: int(
      'PAYCENTER_EXCEPTION_QUERY_INTERVAL_MS',
      pick('PAYCENTER_EXCEPTION_QUERY_INTERVAL_MS'),
      60 * 60 * 1000,
      100,
      86_400_000,
    ),
    exceptionQueryWindowMs: int(
      'PAYCENTER_EXCEPTION_QUERY_WINDOW_MS',
      pick('PAYCENTER_EXCEPTION_QUERY_WINDOW_MS'),
      EXCEPTION_QUERY_WINDOW_MS,
      0,
      30 * 86_400_000,
    ),
    orderTtlMs,
    duplicateWindowMs: int('PAYCENTER_DUPLICATE_WINDOW_MS', pick('PAYCENTER_DUPLICATE_WINDOW_MS'), 10_000, 1, 86_400_000),
    sandbox,
    sandboxTimeScale: num('PAYCENTER_SANDBOX_TIME_SCALE', pick('PAYCENTER_SANDBOX_TIME_SCALE'), 1, 0.00001, 1000),
    channels,
    logLevel: oneOf('LOG_LEVEL', pick('LOG_LEVEL'), 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    databasePoolSize: int('PAYCENTER_DB_POOL_SIZE', pick('PAYCENTER_DB_POOL_SIZE'), 20, 2, 500),
    workerConcurrency: int('PAYCENTER_WORKER_CONCURRENCY', pick('PAYCENTER_WORKER_CONCURRENCY'), 10, 1, 200),
    workerPollIntervalMs: int('PAYCENTER_WORKER_POLL_INTERVAL_MS', pick('PAYCENTER_WORKER_POLL_INTERVAL_MS'), 1000, 10, 60_000),
    jobLockTimeoutMs: int('PAYCENTER_JOB_LOCK_TIMEOUT_MS', pick('PAYCENTER_JOB_LOCK_TIMEOUT_MS'), 300_000, 10_000, 14_400_000),
    reconcileCron: cronExpression('PAYCENTER_RECONCILE_CRON', pick('PAYCENTER_RECONCILE_CRON'), RECONCILE_CRON_DEFAULT),
    delivery: parseDelivery(pick),
  };
  if (!config.sandbox && Object.keys(config.channels).length === 0) {
    throw new ConfigError('PAYCENTER_SANDBOX', 'is off but no channel is configured under channels (wechatpay, alipay, unionpay)');
  }
  return config;
}

function parseDelivery(pick: (key: string) => unknown): DeliveryConfig {
  const schedule = pick('PAYCENTER_DELIVERY_SCHEDULE');
  const webhookUrl = optionalUrl('PAYCENTER_WEBHOOK_URL', pick('PAYCENTER_WEBHOOK_URL'), ['http:', 'https:']);
  const secret = pick('PAYCENTER_WEBHOOK_SECRET');
  if (secret !== undefined && !webhookUrl) throw new ConfigError('PAYCENTER_WEBHOOK_SECRET', 'is set but PAYCENTER_WEBHOOK_URL is not');
  if (secret !== undefined && !isWebhookSecret(secret)) {
    throw new ConfigError('PAYCENTER_WEBHOOK_SECRET', 'must be whsec_ followed by base64 of 24 to 64 random bytes');
  }
  const amqpUrl = optionalUrl('AMQP_URL', pick('AMQP_URL'), ['amqp:', 'amqps:']);
  const natsUrl = optionalUrl('NATS_URL', pick('NATS_URL'), ['nats:', 'tls:']);
  return {
    scheduleMs: schedule === undefined ? DEFAULT_DELIVERY_SCHEDULE_MS : msList('PAYCENTER_DELIVERY_SCHEDULE', schedule),
    timeoutMs: int('PAYCENTER_DELIVERY_TIMEOUT_MS', pick('PAYCENTER_DELIVERY_TIMEOUT_MS'), 10_000, 100, 120_000),
    concurrency: int('PAYCENTER_DELIVERY_CONCURRENCY', pick('PAYCENTER_DELIVERY_CONCURRENCY'), 32, 1, 1000),
    pollIntervalMs: int('PAYCENTER_DELIVERY_POLL_INTERVAL_MS', pick('PAYCENTER_DELIVERY_POLL_INTERVAL_MS'), 1000, 10, 60_000),
    webhookUrl,
    webhookSecret: secret as string | undefined,
    amqp: amqpUrl === undefined ? undefined : { url: amqpUrl, exchange: str('PAYCENTER_AMQP_EXCHANGE', pick('PAYCENTER_AMQP_EXCHANGE'), 'paycenter.events') },
    nats: natsUrl === undefined ? undefined : { url: natsUrl, stream: natsStream(pick('PAYCENTER_NATS_STREAM')) },
  };
}

/** 02:00 UTC is 10:00 in Beijing: the channels publish yesterday's bill from about 09:00. */
const RECONCILE_CRON_DEFAULT = '0 2 * * *';

/** Five cron fields (minute hour day month weekday), checked by the job runner's own parser. */
function cronExpression(key: string, value: unknown, fallback: string): string {
  const s = str(key, value, fallback).trim();
  try {
    if (s.split(/\s+/).length === 5 && parseCrontab(`${s} check`).length === 1) return s;
  } catch {
    // Refused below, with the shape it must have.
  }
  throw new ConfigError(key, 'must be a cron expression of five fields (minute hour day month weekday), in UTC, e.g. 0 2 * * *');
}

/** JetStream stream names may not hold spaces, dots, '*', '>', or path separators. */
function natsStream(value: unknown): string {
  const s = str('PAYCENTER_NATS_STREAM', value, 'PAYCENTER');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) throw new ConfigError('PAYCENTER_NATS_STREAM', 'must be 1 to 64 letters, digits, _ or -');
  return s;
}

const CHANNEL_SECTIONS = ['wechatpay', 'alipay', 'unionpay'];

function parseChannels(value: unknown): Config['channels'] {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new ConfigError('channels', 'must be an object');
  const c = value as Source;
  const unknown = Object.keys(c).find((k) => !CHANNEL_SECTIONS.includes(k));
  if (unknown !== undefined) throw new ConfigError(`channels.${unknown}`, `is not a supported channel (${CHANNEL_SECTIONS.join(', ')})`);
  return {
    ...(c.wechatpay !== undefined && { wechatpay: parseWechatpay(c.wechatpay) }),
    ...(c.alipay !== undefined && { alipay: parseAlipay(c.alipay) }),
    ...(c.unionpay !== undefined && { unionpay: parseUnionpay(c.unionpay) }),
  };
}
