// A test-only UnionPay ACP 5.1.0 merchant: an independent reading of channels.md §3 and
// docs/refunds-and-bills.md (after the adapter and the sandbox), with node:crypto, node:zlib and
// fflate alone. It signs requests (§3.2), verifies the bank's messages by signPubKeyCert and its
// chain (§3.3), parses un-encoded answers (§3.1), plays the buyer's browser on the gateway's HTML
// pages, asks for refunds and reads the daily file. The sandbox it talks to is served by the
// shared fixtures in wechatpay-test-client.ts (serveSandbox, sandboxPerFile).
import { createHash, generateKeyPairSync, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { unzipSync } from 'fflate';

export type Fields = Record<string, string>;

const GATEWAY = '/sandbox/unionpay/gateway/api';
const UNIONPAY_CN = '中国银联股份有限公司';

// ---------------------------------------------------------------------------------------------
// Times and the wire

/** YYYYMMDDhhmmss in Beijing time (UTC+8, no daylight saving). */
export function beijingTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

/** The instant of a YYYYMMDDhhmmss Beijing time. */
export function fromBeijingTime(text: string): Date {
  const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}+08:00`;
  return new Date(iso);
}

/** ACP parseQString: `&` and `=` inside an open `{…}` or `[…]` belong to the value (§3.1). */
export function parseUnencoded(body: string): Fields {
  const fields: Fields = {};
  let depth = 0;
  let key: string | undefined;
  let token = '';
  const flush = () => {
    if (key === undefined) throw new Error(`field without "=" in ${JSON.stringify(body.slice(0, 80))}`);
    fields[key] = token;
    key = undefined;
    token = '';
  };
  for (const c of body) {
    if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
    if (depth === 0 && c === '=' && key === undefined) {
      key = token;
      token = '';
    } else if (depth === 0 && c === '&') {
      flush();
    } else {
      token += c;
    }
  }
  if (body !== '') flush();
  return fields;
}

export function parseForm(body: string): Fields {
  return Object.fromEntries(new URLSearchParams(body));
}

// ---------------------------------------------------------------------------------------------
// Signatures (§3.2, §3.3)

/** Non-empty fields except signature, sorted, `k=v&…`, raw values. */
function signedString(fields: Fields): string {
  return Object.keys(fields)
    .filter((k) => k !== 'signature' && fields[k]!.trim() !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

function hexDigest(fields: Fields): Buffer {
  return Buffer.from(createHash('sha256').update(signedString(fields), 'utf8').digest('hex'), 'utf8');
}

export interface BankTrust {
  rootCert: X509Certificate;
  middleCert: X509Certificate;
}

/** Why the bank's message does not verify, or undefined when it does: chain, validity, CN, then signature. */
export function bankMessageProblem(trust: BankTrust, fields: Fields, now = new Date()): string | undefined {
  const pem = fields.signPubKeyCert;
  if (!pem || !fields.signature) return 'signPubKeyCert or signature missing';
  const cert = new X509Certificate(pem);
  if (!cert.checkIssued(trust.middleCert) || !cert.verify(trust.middleCert.publicKey)) return 'not issued by the middle CA';
  if (!trust.middleCert.checkIssued(trust.rootCert) || !trust.middleCert.verify(trust.rootCert.publicKey)) return 'middle not issued by root';
  if (!trust.rootCert.verify(trust.rootCert.publicKey)) return 'root is not self-signed';
  for (const c of [cert, trust.middleCert, trust.rootCert]) {
    if (new Date(c.validFrom) > now || new Date(c.validTo) < now) return `certificate ${c.subject} is not valid now`;
  }
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
  if (cn.split('@')[2] !== UNIONPAY_CN) return `CN ${cn} is not UnionPay's`;
  if (!verify('sha256', hexDigest(fields), cert.publicKey, Buffer.from(fields.signature, 'base64'))) return 'signature does not verify';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The merchant

export interface UnionpayMerchant {
  merId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  certId?: string;
  trust?: BankTrust;
}

export function newUnionpayMerchant(): UnionpayMerchant {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    merId: '777' + String(Math.floor(Math.random() * 1e12)).padStart(12, '0'),
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function newOrderId(prefix = 'UP'): string {
  return prefix + randomBytes(10).toString('hex');
}

export class UnionpayTestClient {
  constructor(readonly serverUrl: string, readonly merchant: UnionpayMerchant) {}

  get trust(): BankTrust {
    if (!this.merchant.trust) throw new Error('register() first: the chain verifies every bank message');
    return this.merchant.trust;
  }

  async register(): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.serverUrl}/sandbox/unionpay/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ merId: this.merchant.merId, merchantPublicKey: this.merchant.publicKeyPem }),
    });
    const body = (await res.json()) as any;
    if (res.status === 200) {
      this.merchant.certId = body.certId;
      this.merchant.trust = { rootCert: new X509Certificate(body.rootCert), middleCert: new X509Certificate(body.middleCert) };
    }
    return { status: res.status, body };
  }

  /** The fields with certId and signature (§3.2). */
  sign(fields: Fields): Fields {
    const withCert = { ...fields, certId: this.merchant.certId ?? '' };
    return { ...withCert, signature: sign('sha256', hexDigest(withCert), this.merchant.privateKey).toString('base64') };
  }

  /** What every request of this merchant carries (§3.2); bizType 000201 is the B2C gateway payment. */
  private header(txnType: string, txnSubType: string, bizType = '000201'): Fields {
    return { version: '5.1.0', encoding: 'UTF-8', signMethod: '01', txnType, txnSubType, bizType, accessType: '0', merId: this.merchant.merId };
  }

  consumeFields(orderId: string, backUrl: string, extra: Fields = {}): Fields {
    return {
      ...this.header('01', '01'),
      channelType: '07',
      orderId,
      txnTime: beijingTime(new Date()),
      txnAmt: '8888',
      currencyCode: '156',
      backUrl,
      ...extra,
    };
  }

  queryFields(orderId: string, txnTime: string): Fields {
    return { ...this.header('00', '00'), orderId, txnTime };
  }

  /** The browser posting the merchant's auto-submitting form; answers the HTML page. */
  async frontConsume(signedFields: Fields): Promise<GatewayPage> {
    return postPage(`${this.serverUrl}${GATEWAY}/frontTransReq.do`, signedFields);
  }

  refundFields(orderId: string, origQryId: string, txnAmt: number, backUrl: string): Fields {
    return {
      ...this.header('04', '00'),
      channelType: '07',
      orderId,
      txnTime: beijingTime(new Date()),
      txnAmt: String(txnAmt),
      currencyCode: '156',
      origQryId,
      backUrl,
    };
  }

  /** settleDate is MMDD (§3.8). */
  fileTransFields(settleDate: string): Fields {
    return {
      ...this.header('76', '01', '000000'),
      settleDate,
      txnTime: beijingTime(new Date()),
      fileType: '00',
    };
  }

  /** A signed query; the answer parsed and checked against the chain. */
  query(orderId: string, txnTime: string, fields?: Fields): Promise<BankAnswer> {
    return this.postApi('queryTrans.do', fields ?? this.sign(this.queryFields(orderId, txnTime)));
  }

  /** A back-end transaction (a refund) as signed fields. */
  backTrans(signedFields: Fields): Promise<BankAnswer> {
    return this.postApi('backTransReq.do', signedFields);
  }

  /** The reconciliation file request as signed fields. */
  fileTrans(signedFields: Fields): Promise<BankAnswer> {
    return this.postApi('fileTransRequest.do', signedFields);
  }

  private async postApi(name: string, fields: Fields): Promise<BankAnswer> {
    const res = await fetch(`${this.serverUrl}${GATEWAY}/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: new URLSearchParams(fields),
    });
    if (res.status !== 200) throw new Error(`${name} answered HTTP ${res.status}`);
    const raw = await res.text();
    const answer = parseUnencoded(raw);
    return { raw, fields: answer, problem: bankMessageProblem(this.trust, answer) };
  }
}

/** A synchronous answer: the body as received, its fields, and why its signature fails (undefined if it verifies). */
export interface BankAnswer {
  raw: string;
  fields: Fields;
  problem: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// The reconciliation file (§3.8; docs/refunds-and-bills.md fixes the simplified ZM layout)

/** fileContent: base64 → zlib inflate → a ZIP; its files by name, as ASCII text. */
export function unpackFileContent(fileContent: string): Record<string, string> {
  const zip = inflateSync(Buffer.from(fileContent, 'base64'));
  const files = unzipSync(new Uint8Array(zip));
  return Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, Buffer.from(bytes).toString('ascii')]));
}

const ZM_FIELDS = [
  ['txnCode', 3], ['queryId', 21], ['orderId', 40], ['txnTime', 14], ['txnAmt', 12], ['currencyCode', 3], ['origQryId', 21], ['respCode', 2],
] as const;

export type ZmLine = Record<(typeof ZM_FIELDS)[number][0], string>;

/** The fixed-width lines (each field left-aligned, space-padded, one space between, \r\n ends), values trimmed. */
export function parseZmFile(text: string): ZmLine[] {
  if (!text.endsWith('\r\n')) throw new Error('a ZM file ends with \\r\\n');
  const width = ZM_FIELDS.reduce((sum, [, w]) => sum + w, 0) + ZM_FIELDS.length - 1;
  return text.slice(0, -2).split('\r\n').map((line) => {
    if (line.length !== width) throw new Error(`ZM line of ${line.length} characters, not ${width}: ${JSON.stringify(line)}`);
    let at = 0;
    const record: Record<string, string> = {};
    for (const [name, w] of ZM_FIELDS) {
      record[name] = line.slice(at, at + w).trimEnd();
      at += w + 1;
    }
    return record as ZmLine;
  });
}

// ---------------------------------------------------------------------------------------------
// The buyer's browser

export interface GatewayPage {
  status: number;
  html: string;
  /** data-resp-code of the page, when it shows one. */
  respCode: string | undefined;
  /** data-state of a cashier page: payable, expired or paid. */
  state: string | undefined;
}

async function postPage(url: string, fields: Fields): Promise<GatewayPage> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    body: new URLSearchParams(fields),
  });
  const html = await res.text();
  return {
    status: res.status,
    html,
    respCode: /data-resp-code="([^"]*)"/.exec(html)?.[1],
    state: /data-state="([^"]*)"/.exec(html)?.[1],
  };
}

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
}

/** The forms of a page: action and hidden fields, character references decoded as a browser would. */
export function formsOf(html: string): Array<{ action: string; fields: Fields }> {
  return [...html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].map(([, action, inner]) => ({
    action: decodeEntities(action!),
    fields: Object.fromEntries(
      [...inner!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(([, n, v]) => [decodeEntities(n!), decodeEntities(v!)]),
    ),
  }));
}

/** Clicks the cashier button whose form posts to a path ending in `/pay` or `/cancel`. */
export async function clickCashier(serverUrl: string, cashier: GatewayPage, button: 'pay' | 'cancel'): Promise<GatewayPage> {
  const form = formsOf(cashier.html).find((f) => f.action.endsWith(`/${button}`));
  if (!form) throw new Error(`the cashier page has no ${button} button`);
  return postPage(serverUrl + form.action, form.fields);
}

/** What the auto-submitting front-return form would post, and where. */
export function frontReturnOf(page: GatewayPage): { action: string; fields: Fields } | undefined {
  return formsOf(page.html).find((f) => f.action.startsWith('http'));
}
