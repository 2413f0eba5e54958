// A test-only WeChat Pay v3 merchant: the third independent reading of channels.md §1 (after the
// adapter and the sandbox). It signs requests, verifies the bank's signatures and decrypts
// notifications with node:crypto alone. Also the fixtures sandbox tests share: a throwaway
// database per test file, a sandbox served on a free port, and a notification receiver.
import { createDecipheriv, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fastify } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

// ---------------------------------------------------------------------------------------------
// Merchant side of the protocol

export interface TestMerchant {
  mchId: string;
  appId: string;
  serialNo: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  apiV3Key: string;
}

export function newTestMerchant(): TestMerchant {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    mchId: String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999)),
    appId: 'wx' + randomBytes(8).toString('hex'),
    serialNo: randomBytes(20).toString('hex').toUpperCase(),
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    apiV3Key: randomBytes(16).toString('hex'), // 32 ASCII characters = 32 bytes
  };
}

/** §1.2: five \n-terminated lines, signed SHA256withRSA, sent as WECHATPAY2-SHA256-RSA2048 k="v" pairs. */
export function authorizationHeader(
  m: TestMerchant,
  method: string,
  pathAndQuery: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  const nonce = randomBytes(16).toString('hex').toUpperCase();
  const message = `${method}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${body}\n`;
  const signature = sign('sha256', Buffer.from(message), m.privateKey).toString('base64');
  return `WECHATPAY2-SHA256-RSA2048 mchid="${m.mchId}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${m.serialNo}"`;
}

type HeaderBag = Headers | IncomingHttpHeaders;
function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) : headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : (value ?? undefined);
}

/** §1.3: `timestamp\nnonce\nbody\n` verified with the platform public key. */
export function verifyPlatformSignature(platformKey: KeyObject, headers: HeaderBag, body: string): boolean {
  const timestamp = header(headers, 'Wechatpay-Timestamp');
  const nonce = header(headers, 'Wechatpay-Nonce');
  const signature = header(headers, 'Wechatpay-Signature');
  if (!timestamp || !nonce || !signature) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) >= 300) return false;
  return verify('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`), platformKey, Buffer.from(signature, 'base64'));
}

export interface EncryptedResource {
  algorithm: string;
  ciphertext: string;
  associated_data: string;
  nonce: string;
}

/** §1.4: AES-256-GCM, key = APIv3 key bytes, IV = nonce bytes, last 16 bytes of the ciphertext = tag. */
export function decryptResource(apiV3Key: string, resource: EncryptedResource): Record<string, unknown> {
  if (resource.algorithm !== 'AEAD_AES_256_GCM') throw new Error(`unexpected algorithm ${resource.algorithm}`);
  const data = Buffer.from(resource.ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key), Buffer.from(resource.nonce));
  decipher.setAAD(Buffer.from(resource.associated_data));
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  raw: string;
  body: any; // tests read arbitrary JSON fields
  signatureValid: boolean;
}

export class WechatpayTestClient {
  platformKey: KeyObject | undefined;
  platformKeyId: string | undefined;

  /** serverUrl without the /sandbox/wechatpay prefix. */
  constructor(readonly serverUrl: string, readonly merchant: TestMerchant) {}

  /** A client of a new merchant, registered at the sandbox. */
  static async registered(serverUrl: string, merchant: TestMerchant = newTestMerchant()): Promise<WechatpayTestClient> {
    const client = new WechatpayTestClient(serverUrl, merchant);
    await client.register();
    return client;
  }

  get apiBaseUrl(): string {
    return `${this.serverUrl}/sandbox/wechatpay`;
  }

  async register(): Promise<void> {
    const res = await fetch(`${this.apiBaseUrl}/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        mchId: this.merchant.mchId,
        appId: this.merchant.appId,
        merchantPublicKey: this.merchant.publicKeyPem,
        merchantCertSerialNo: this.merchant.serialNo,
        apiV3Key: this.merchant.apiV3Key,
      }),
    });
    const body = (await res.json()) as { platformPublicKey: string; platformPublicKeyId: string };
    if (res.status !== 200) throw new Error(`merchant registration failed: ${res.status} ${JSON.stringify(body)}`);
    this.platformKey = createPublicKey(body.platformPublicKey);
    this.platformKeyId = body.platformPublicKeyId;
  }

  /** A signed v3 call; `path` starts at /v3. `authorization` overrides the header (for negative tests). */
  async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { timestamp?: number; authorization?: string } = {},
  ): Promise<ApiAnswer> {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const url = new URL(this.apiBaseUrl + path);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'wechatpay-test-client',
      authorization: options.authorization ?? authorizationHeader(this.merchant, method, url.pathname + url.search, raw, options.timestamp),
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : raw });
    const text = await res.text();
    if (!this.platformKey) throw new Error('register() first: the platform key verifies every answer');
    return {
      status: res.status,
      headers: res.headers,
      raw: text,
      body: text === '' ? undefined : JSON.parse(text),
      signatureValid: verifyPlatformSignature(this.platformKey, res.headers, text),
    };
  }

  /** A signed GET of an absolute URL (a bill's download_url), its answer kept as bytes: bill files are not JSON. */
  async download(absoluteUrl: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const url = new URL(absoluteUrl);
    const res = await fetch(url, {
      headers: { 'user-agent': 'wechatpay-test-client', authorization: authorizationHeader(this.merchant, 'GET', url.pathname + url.search, '') },
    });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  /** §1.8: a refund by out_trade_no; `refundFen` of the order's `totalFen`. */
  refundRequest(outTradeNo: string, outRefundNo: string, refundFen: number, totalFen: number, notifyUrl: string): Record<string, unknown> {
    return {
      out_trade_no: outTradeNo,
      out_refund_no: outRefundNo,
      reason: 'sandbox test refund',
      notify_url: notifyUrl,
      amount: { refund: refundFen, total: totalFen, currency: 'CNY' },
    };
  }

  nativeOrder(outTradeNo: string, notifyUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      appid: this.merchant.appId,
      mchid: this.merchant.mchId,
      description: 'Sandbox test order',
      out_trade_no: outTradeNo,
      notify_url: notifyUrl,
      amount: { total: 1234, currency: 'CNY' },
      ...extra,
    };
  }
}

/** A trade bill as the test reads it (§1.9): rows by header name, backticks removed; `raw` keeps the lines as sent. */
export interface ParsedTradeBill {
  header: string[];
  rows: Record<string, string>[];
  summary: Record<string, string>;
  raw: string[];
}

/** Detail header, backticked rows, summary header, backticked summary line; any line ending. */
export function parseTradeBill(text: string): ParsedTradeBill {
  const raw = text.split(/\r?\n/).filter((line) => line !== '');
  const summaryAt = raw.findIndex((line) => line.startsWith('总交易单数'));
  const [headerLine, ...detailLines] = raw.slice(0, summaryAt);
  if (headerLine === undefined || summaryAt !== raw.length - 2) throw new Error(`not a trade bill:\n${text}`);
  const unquote = (value: string) => {
    if (!value.startsWith('`')) throw new Error(`bill value without its backtick: ${value}`);
    return value.slice(1);
  };
  const record = (names: string[], line: string) => {
    const values = line.split(',').map(unquote);
    if (values.length !== names.length) throw new Error(`bill line has ${values.length} values for ${names.length} columns: ${line}`);
    return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
  };
  const header = headerLine.split(',');
  return {
    header,
    rows: detailLines.map((line) => record(header, line)),
    summary: record(raw[summaryAt]!.split(','), raw[summaryAt + 1]!),
    raw,
  };
}

// Fixtures: one database per test file, from the shared test infrastructure.
export { createTestDatabase };

export const testLog = createLogger(process.env.SANDBOX_TEST_LOG_LEVEL ?? 'silent', 'sandbox-test');

export type ServeOptions = Omit<SandboxOptions, 'pool' | 'log'> & { log?: Logger };

export interface ServedSandbox {
  url: string;
  sandbox: Sandbox;
  close(): Promise<void>;
}

/** A started sandbox, every channel in it, on its own Fastify server (port 0), as Paycenter mounts it. */
export async function serveSandbox(pool: pg.Pool, options: ServeOptions): Promise<ServedSandbox> {
  const app = fastify();
  const sandbox = createSandbox({ pool, ...options, log: options.log ?? testLog });
  await sandbox.register(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  await sandbox.start();
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sandbox,
    async close() {
      await app.close();
      await sandbox.stop();
    },
  };
}

/** The sandbox a test file shares; read it inside tests and hooks, once beforeAll has served it. */
export interface SandboxFixture {
  readonly url: string;
  /** The file's own database, which holds the sandbox's ledger. */
  readonly pool: pg.Pool;
}

/**
 * Gives the calling test file its own database and a sandbox served on it: both made in a
 * beforeAll that runs before the file's own (registered after this call), closed and dropped in
 * afterAll.
 */
export function sandboxPerFile(options: ServeOptions): SandboxFixture {
  let db: TestDatabase | undefined;
  let served: ServedSandbox | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    served = await serveSandbox(db.pool, options);
  });
  afterAll(async () => {
    await served?.close();
    await db?.drop();
  });
  const started = (): { db: TestDatabase; served: ServedSandbox } => {
    if (!db || !served) throw new Error('the sandbox is served in beforeAll: use it inside tests and hooks');
    return { db, served };
  };
  return {
    get url() {
      return started().served.url;
    },
    get pool() {
      return started().db.pool;
    },
  };
}

/** Retries an assertion about something asynchronous (a notification's outcome) until it holds. */
export async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** JSON call to the unsigned control API (/sandbox/pay, /sandbox/faults, /sandbox/ledger). */
export async function control(
  serverUrl: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(serverUrl + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

export interface ReceivedNotification {
  atMs: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A status with an empty body (WeChat: 2xx), or an explicit status and body (Alipay's `success`). */
export type ReceiverAnswer = number | { status: number; body: string } | 'no_answer';

/** An HTTP server standing in for Paycenter's /notify endpoint; `answer` picks each answer, or silence. */
export async function startNotificationReceiver(
  answer: (n: ReceivedNotification, index: number) => ReceiverAnswer = () => 200,
  path = '/notify/wechatpay',
): Promise<{ url: string; received: ReceivedNotification[]; waitFor(count: number, timeoutMs?: number): Promise<void>; close(): Promise<void> }> {
  const received: ReceivedNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = { atMs: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(n);
      const reply = answer(n, received.length - 1);
      if (reply === 'no_answer') return;
      if (typeof reply === 'object') {
        res.writeHead(reply.status, { 'content-type': 'text/plain' });
        res.end(reply.body);
        return;
      }
      res.writeHead(reply, { 'content-type': 'application/json' });
      res.end(reply < 300 ? '' : JSON.stringify({ code: 'FAIL', message: 'test receiver says no' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    async waitFor(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
