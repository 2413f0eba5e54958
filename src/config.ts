// One typed configuration, resolved once at start-up from a JSON file (PAYCENTER_CONFIG) and
// environment variables (which win). Every bad value stops start-up with the key and the reason.
import { readFileSync, existsSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { DEFAULT_DELIVERY_SCHEDULE_MS } from './domain/delivery-schedule.ts';
import { isWebhookSecret } from './domain/webhook-signature.ts';

export interface WechatpayConfig {
  mchId: string;
  appId: string;
  apiBaseUrl: string;
  /** PEM text of the merchant API private key. */
  privateKey: string;
  certSerialNo: string;
  apiV3Key: string;
  /** PEM text of the WeChat Pay public key ("WeChat Pay public key" verification mode). */
  platformPublicKey: string;
  platformPublicKeyId: string;
  notifyUrl: string;
  /** Per-call timeout; a slower answer is "unknown" and gets queried. */
  requestTimeoutMs: number;
}

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
  /** Delays after the attempt's creation, in ms, at which the active query runs. */
  queryScheduleMs: number[] | undefined;
  /** After the schedule: how often an EXCEPTION order keeps being queried. */
  exceptionQueryIntervalMs: number;
  /** How long an EXCEPTION order keeps being queried before only an operator can act. */
  exceptionQueryWindowMs: number;
  orderTtlMs: number;
  duplicateWindowMs: number;
  sandbox: boolean;
  sandboxTimeScale: number;
  channels: { wechatpay?: WechatpayConfig };
  logLevel: string;
  /** Connections in the PostgreSQL pool used by the API and services. */
  databasePoolSize: number;
  workerConcurrency: number;
  /** How often the job runner looks for jobs that became due (new jobs wake it at once). */
  workerPollIntervalMs: number;
  /** A job locked longer than this is taken from the (dead) process that holds it. */
  jobLockTimeoutMs: number;
  delivery: DeliveryConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`config ${key}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, unknown>;

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
    sandboxSetting === undefined ? channels.wechatpay === undefined : parseOnOff('PAYCENTER_SANDBOX', sandboxSetting);
  const orderTtlMs = int('PAYCENTER_ORDER_TTL_MS', pick('PAYCENTER_ORDER_TTL_MS'), FIFTEEN_MINUTES_MS, 60_000, 90 * 86_400_000);
  const schedule = pick('PAYCENTER_QUERY_SCHEDULE');
  const config: Config = {
    port: int('PORT', pick('PORT'), 8080, 0, 65535),
    host: str('HOST', pick('HOST'), '127.0.0.1'),
    databaseUrl: optionalUrl('DATABASE_URL', pick('DATABASE_URL'), ['postgres:', 'postgresql:']),
    redisUrl: optionalUrl('REDIS_URL', pick('REDIS_URL'), ['redis:', 'rediss:']),
    dataDir: str('PAYCENTER_DATA_DIR', pick('PAYCENTER_DATA_DIR'), './.paycenter'),
    apiKey: optionalApiKey(pick('PAYCENTER_API_KEY')),
    queryScheduleMs: schedule === undefined ? undefined : msList('PAYCENTER_QUERY_SCHEDULE', schedule),
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
    delivery: parseDelivery(pick),
  };
  if (!config.sandbox && !config.channels.wechatpay) {
    throw new ConfigError('PAYCENTER_SANDBOX', 'is off but no channel is configured under channels.wechatpay');
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

/** JetStream stream names may not hold spaces, dots, '*', '>', or path separators. */
function natsStream(value: unknown): string {
  const s = str('PAYCENTER_NATS_STREAM', value, 'PAYCENTER');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) throw new ConfigError('PAYCENTER_NATS_STREAM', 'must be 1 to 64 letters, digits, _ or -');
  return s;
}

function parseOnOff(key: string, value: unknown): boolean {
  if (value === true || value === 'on' || value === 'true' || value === '1') return true;
  if (value === false || value === 'off' || value === 'false' || value === '0') return false;
  throw new ConfigError(key, `must be "on" or "off", got ${JSON.stringify(value)}`);
}

function str(key: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(key, 'must be a non-empty string');
  return value;
}

function oneOf(key: string, value: unknown, fallback: string, allowed: string[]): string {
  const v = str(key, value, fallback);
  if (!allowed.includes(v)) throw new ConfigError(key, `must be one of ${allowed.join(', ')}`);
  return v;
}

function num(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(key, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function int(key: string, value: unknown, fallback: number, min: number, max: number): number {
  const n = num(key, value, fallback, min, max);
  if (!Number.isInteger(n)) throw new ConfigError(key, `must be a whole number, got ${JSON.stringify(value)}`);
  return n;
}

function msList(key: string, value: unknown): number[] {
  const parts = Array.isArray(value) ? value : String(value).split(',');
  if (parts.length === 0 || parts.length > 1000) throw new ConfigError(key, 'must list 1 to 1000 delays in ms');
  return parts.map((p, i) => {
    const n = typeof p === 'number' ? p : Number(String(p).trim());
    if (!Number.isInteger(n) || n < 0 || n > 90 * 86_400_000) {
      throw new ConfigError(key, `entry ${i + 1} (${JSON.stringify(p)}) must be a whole number of ms, 0 or more`);
    }
    return n;
  });
}

function optionalUrl(key: string, value: unknown, protocols: string[]): string | undefined {
  if (value === undefined) return undefined;
  const s = str(key, value, '');
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ConfigError(key, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(key, `must start with ${protocols.map((p) => p + '//').join(' or ')}`);
  }
  return s;
}

function optionalApiKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const s = str('PAYCENTER_API_KEY', value, '');
  if (s.length < 24 || s.length > 200 || /\s/.test(s)) {
    throw new ConfigError('PAYCENTER_API_KEY', 'must be 24 to 200 characters without spaces');
  }
  return s;
}

/** A PEM string, or the path of a file holding one. */
function pem(key: string, value: unknown): string {
  const s = str(key, value, '');
  if (s.includes('-----BEGIN')) return s;
  if (!existsSync(s)) throw new ConfigError(key, `is neither PEM text nor the path of an existing file (${s})`);
  try {
    return readFileSync(s, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `file ${s} cannot be read (${(err as Error).message})`);
  }
}

const WECHATPAY_KEYS = [
  'mchId',
  'appId',
  'apiBaseUrl',
  'privateKey',
  'certSerialNo',
  'apiV3Key',
  'platformPublicKey',
  'platformPublicKeyId',
  'notifyUrl',
] as const;

function parseChannels(value: unknown): Config['channels'] {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new ConfigError('channels', 'must be an object');
  const channels = value as Source;
  const unknown = Object.keys(channels).filter((k) => k !== 'wechatpay');
  if (unknown.length > 0) throw new ConfigError(`channels.${unknown[0]}`, 'is not a supported channel (wechatpay)');
  if (channels.wechatpay === undefined) return {};
  return { wechatpay: parseWechatpay(channels.wechatpay) };
}

export function parseWechatpay(value: unknown): WechatpayConfig {
  const prefix = 'channels.wechatpay';
  if (typeof value !== 'object' || value === null) throw new ConfigError(prefix, 'must be an object');
  const w = value as Source;
  for (const k of WECHATPAY_KEYS) {
    if (w[k] === undefined || w[k] === '') throw new ConfigError(`${prefix}.${k}`, 'is missing');
  }
  const privateKey = pem(`${prefix}.privateKey`, w.privateKey);
  const platformPublicKey = pem(`${prefix}.platformPublicKey`, w.platformPublicKey);
  try {
    createPrivateKey(privateKey);
  } catch (err) {
    throw new ConfigError(`${prefix}.privateKey`, `is not a readable private key (${(err as Error).message})`);
  }
  try {
    createPublicKey(platformPublicKey);
  } catch (err) {
    throw new ConfigError(`${prefix}.platformPublicKey`, `is not a readable public key (${(err as Error).message})`);
  }
  const apiV3Key = str(`${prefix}.apiV3Key`, w.apiV3Key, '');
  if (Buffer.byteLength(apiV3Key) !== 32) throw new ConfigError(`${prefix}.apiV3Key`, 'must be exactly 32 bytes');
  const apiBaseUrl = optionalUrl(`${prefix}.apiBaseUrl`, w.apiBaseUrl, ['https:', 'http:'])!;
  const notifyUrl = optionalUrl(`${prefix}.notifyUrl`, w.notifyUrl, ['https:', 'http:'])!;
  if (new URL(notifyUrl).search !== '') throw new ConfigError(`${prefix}.notifyUrl`, 'must not carry a query string');
  return {
    mchId: str(`${prefix}.mchId`, w.mchId, ''),
    appId: str(`${prefix}.appId`, w.appId, ''),
    apiBaseUrl: apiBaseUrl.replace(/\/+$/, ''),
    privateKey,
    certSerialNo: str(`${prefix}.certSerialNo`, w.certSerialNo, ''),
    apiV3Key,
    platformPublicKey,
    platformPublicKeyId: str(`${prefix}.platformPublicKeyId`, w.platformPublicKeyId, ''),
    notifyUrl,
    requestTimeoutMs: int(`${prefix}.requestTimeoutMs`, w.requestTimeoutMs, 10_000, 100, 60_000),
  };
}
