// A test-only Alipay app: an independent reading of channels.md §2 (the adapter and the sandbox
// are the others). It signs gateway requests, verifies the bank's signed responses by the raw
// substring rule, and verifies notifications, with node:crypto alone. Also an Alipay notify_url
// receiver, whose answers (the body `success`, or anything else) the tests choose, and a reader of
// the daily bill ZIP (docs/refunds-and-bills.md).
import { createPublicKey, generateKeyPairSync, randomInt, sign, verify, type KeyObject } from 'node:crypto';
import { unzipSync } from 'fflate';
import iconv from 'iconv-lite';
import { control, startNotificationReceiver, type ReceivedNotification, type ReceiverAnswer } from './wechatpay-test-client.ts';

export { control, eventually, sandboxPerFile, serveSandbox, testLog, type ReceivedNotification } from './wechatpay-test-client.ts';

const GATEWAY_PATH = '/sandbox/alipay/gateway.do';

export interface TestApp {
  appId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function newTestApp(): TestApp {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    appId: '2021' + String(randomInt(0, 1e12)).padStart(12, '0'),
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** §2.1: `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8, no daylight saving). */
export function beijingTime(at: Date = new Date()): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** §2.2 / §2.4: every parameter but the excluded, empty values dropped, sorted by key, raw key=value joined by &. */
export function stringToSign(params: Record<string, string>, excluded: string[]): string {
  return Object.keys(params)
    .filter((k) => !excluded.includes(k) && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

export function rsa2Sign(privateKey: KeyObject, content: string): string {
  return sign('sha256', Buffer.from(content, 'utf8'), privateKey).toString('base64');
}

export function rsa2Verify(publicKey: KeyObject, content: string, signature: string): boolean {
  return verify('sha256', Buffer.from(content, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
}

/**
 * §2.3: the value of `"<key>":` from its `{` to the matching `}`, exactly as transmitted (braces
 * inside strings, and escaped quotes, do not count). Undefined when the node is missing or twice.
 */
function responseNode(raw: string, key: string): string | undefined {
  const marker = `${JSON.stringify(key)}:`;
  const at = raw.indexOf(marker);
  if (at < 0 || raw.indexOf(marker, at + 1) >= 0) return undefined;
  const start = raw.indexOf('{', at + marker.length);
  let depth = 0;
  let inString = false;
  for (let i = start; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return raw.slice(start, i + 1);
  }
  return undefined;
}

export interface GatewayAnswer {
  status: number;
  raw: string;
  /** The inner object of `<method>_response` (or error_response). */
  response: any; // tests read arbitrary fields
  responseKey: string;
  /** The sign verifies with the registered Alipay public key over the raw node. */
  signatureValid: boolean;
}

export interface CallOptions {
  notifyUrl?: string;
  returnUrl?: string;
  timestamp?: string;
  /** Overrides of the common parameters, applied before signing (undefined removes one). */
  params?: Record<string, string | undefined>;
  /** Changes made after signing, to test the bank's signature check. */
  afterSigning?: (params: Record<string, string>) => void;
  /** Where the parameters travel: SDK style (common in the query, biz_content in the body), or all in one place. */
  placement?: 'sdk' | 'body' | 'query';
}

export class AlipayTestClient {
  alipayPublicKey: KeyObject | undefined;
  alipayPublicKeyPem: string | undefined;
  sellerId: string | undefined;

  constructor(readonly serverUrl: string, readonly app: TestApp) {}

  /** A client of a new app, registered at the sandbox. */
  static async registered(serverUrl: string, app: TestApp = newTestApp()): Promise<AlipayTestClient> {
    const client = new AlipayTestClient(serverUrl, app);
    await client.register();
    return client;
  }

  async register(extra: Record<string, unknown> = {}): Promise<void> {
    const res = await fetch(`${this.serverUrl}/sandbox/alipay/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: this.app.appId, appPublicKey: this.app.publicKeyPem, ...extra }),
    });
    const body = (await res.json()) as { sellerId: string; alipayPublicKey: string };
    if (res.status !== 200) throw new Error(`app registration failed: ${res.status} ${JSON.stringify(body)}`);
    this.sellerId = body.sellerId;
    this.alipayPublicKeyPem = body.alipayPublicKey;
    this.alipayPublicKey = createPublicKey(body.alipayPublicKey);
  }

  /** The signed parameters of a request (§2.1, §2.2). */
  signedParams(method: string, biz: unknown, options: CallOptions = {}): Record<string, string> {
    const params: Record<string, string> = {
      app_id: this.app.appId,
      method,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: options.timestamp ?? beijingTime(),
      version: '1.0',
      biz_content: typeof biz === 'string' ? biz : JSON.stringify(biz),
      ...(options.notifyUrl === undefined ? {} : { notify_url: options.notifyUrl }),
      ...(options.returnUrl === undefined ? {} : { return_url: options.returnUrl }),
    };
    for (const [key, value] of Object.entries(options.params ?? {})) {
      if (value === undefined) delete params[key];
      else params[key] = value;
    }
    params.sign = rsa2Sign(this.app.privateKey, stringToSign(params, ['sign']));
    options.afterSigning?.(params);
    return params;
  }

  async call(method: string, biz: unknown, options: CallOptions = {}): Promise<GatewayAnswer> {
    const params = this.signedParams(method, biz, options);
    const placement = options.placement ?? 'sdk';
    const inQuery = (key: string) => placement === 'query' || (placement === 'sdk' && key !== 'biz_content');
    const url = new URL(this.serverUrl + GATEWAY_PATH);
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) (inQuery(key) ? url.searchParams : form).set(key, value);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: form.toString(),
    });
    return this.readAnswer(res.status, await res.text(), method);
  }

  /** A browser URL for page.pay: every signed parameter in the query string. */
  pageUrl(biz: unknown, options: CallOptions = {}): string {
    const url = new URL(this.serverUrl + GATEWAY_PATH);
    for (const [key, value] of Object.entries(this.signedParams('alipay.trade.page.pay', biz, options))) url.searchParams.set(key, value);
    return url.toString();
  }

  readAnswer(status: number, raw: string, method: string): GatewayAnswer {
    if (!this.alipayPublicKey) throw new Error('register() first: the Alipay public key verifies every answer');
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const methodKey = `${method.replaceAll('.', '_')}_response`;
    const responseKey = methodKey in parsed ? methodKey : 'error_response';
    const node = responseNode(raw, responseKey);
    const signature = parsed.sign;
    return {
      status,
      raw,
      response: parsed[responseKey],
      responseKey,
      signatureValid: node !== undefined && typeof signature === 'string' && rsa2Verify(this.alipayPublicKey, node, signature),
    };
  }

  /** §2.4: all received parameters but sign and sign_type, decoded and sorted, verified with the Alipay key. */
  verifyNotification(params: URLSearchParams): boolean {
    if (!this.alipayPublicKey) throw new Error('register() first');
    const signature = params.get('sign');
    if (!signature) return false;
    return rsa2Verify(this.alipayPublicKey, stringToSign(Object.fromEntries(params), ['sign', 'sign_type']), signature);
  }
}

/** The merchant's notify_url: answers 200 `success` unless told otherwise (a string is a 200 with that body). */
export function startAlipayReceiver(answer: (params: URLSearchParams, index: number) => string | ReceiverAnswer = () => 'success') {
  return startNotificationReceiver((n, index) => {
    const reply = answer(new URLSearchParams(n.body), index);
    return typeof reply === 'string' && reply !== 'no_answer' ? { status: 200, body: reply } : reply;
  }, '/notify/alipay');
}

/** Runs `work` with these fault switches on at the sandbox, and all of them off again afterwards. */
export async function withFaults<T>(serverUrl: string, faults: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
  const set = await control(serverUrl, 'PUT', '/sandbox/faults', faults);
  if (set.status !== 200) throw new Error(`faults refused: ${set.status} ${JSON.stringify(set.body)}`);
  try {
    return await work();
  } finally {
    await control(serverUrl, 'DELETE', '/sandbox/faults');
  }
}

/** A received notification's form parameters. */
export const formOf = (n: ReceivedNotification): URLSearchParams => new URLSearchParams(n.body);

/** One CSV line split into fields: RFC 4180 quotes honoured, each value trimmed of the tabs and spaces Alipay pads with. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(field.trim());
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field.trim());
  return fields;
}

export interface AlipayBill {
  /** The names of the files in the ZIP. */
  fileNames: string[];
  /** Every line of each file, GBK-decoded. */
  text: Record<string, string[]>;
  /** The detail file's header names, and its transaction lines read by those names. */
  header: string[];
  rows: Array<Record<string, string>>;
}

/** docs/refunds-and-bills.md: a ZIP of two GBK CSV files; the detail file is `#` comments around one header and its lines. */
export function readAlipayBill(zip: Uint8Array): AlipayBill {
  const files = unzipSync(zip);
  const text: Record<string, string[]> = {};
  for (const [name, bytes] of Object.entries(files)) text[name] = iconv.decode(Buffer.from(bytes), 'gbk').split(/\r?\n/).filter((l) => l !== '');
  const detailName = Object.keys(text).find((n) => n.endsWith('_业务明细.csv'));
  if (!detailName) throw new Error(`no detail file among ${Object.keys(text).join(', ')}`);
  const [headerLine, ...lines] = text[detailName]!.filter((l) => !l.startsWith('#'));
  const header = csvFields(headerLine ?? '');
  const rows = lines.map((line) => Object.fromEntries(csvFields(line).map((value, i) => [header[i] ?? `#${i}`, value])));
  return { fileNames: Object.keys(files), text, header, rows };
}
