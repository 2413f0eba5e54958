// A request to gateway.do as the bank reads it (channels.md §2.1, §2.2, §2.11): parameters from
// the query string and the form body together (SDKs put the common ones and sign in the URL,
// biz_content in the body), the common parameters checked, and the signature verified with the
// app's registered key over the decoded values, before any business parameter is looked at.
import type { App, AppDirectory } from './apps.ts';
import { requestSignContent, verifyRequestSignature } from './signing.ts';
import { isHttpUrl, parseBeijingTime } from './wire-format.ts';

const GATEWAY_METHODS = [
  'alipay.trade.precreate',
  'alipay.trade.page.pay',
  'alipay.trade.query',
  'alipay.trade.close',
  'alipay.trade.refund',
  'alipay.trade.fastpay.refund.query',
  'alipay.data.dataservice.bill.downloadurl.query',
] as const;
export type GatewayMethod = (typeof GATEWAY_METHODS)[number];

/**
 * How far `timestamp` may be from the bank's clock. Alipay's tolerance is not documented
 * (channels.md §5.6); 15 minutes catches a merchant writing UTC instead of Beijing time.
 */
const TIMESTAMP_TOLERANCE_MS = 15 * 60_000;
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** An answer other than 10000, as §2.6 codes them. */
export interface GatewayError {
  code: '20000' | '40001' | '40002' | '40004';
  subCode: string;
  subMsg: string;
}

export type GatewayRequest =
  | { ok: true; method: GatewayMethod; app: App; params: Record<string, string>; biz: Record<string, unknown> }
  /** method is undefined when the request names none the sandbox serves: the answer is an error_response. */
  | { ok: false; method: GatewayMethod | undefined; error: GatewayError };

const missing = (subCode: string, subMsg: string): GatewayError => ({ code: '40001', subCode, subMsg });
const invalid = (subCode: string, subMsg: string): GatewayError => ({ code: '40002', subCode, subMsg });

export async function readGatewayRequest(
  apps: AppDirectory,
  request: { url: string; contentType: string | undefined; body: string },
  now: Date,
): Promise<GatewayRequest> {
  const { values, bodyError } = collectParams(request);
  const methods = values.get('method') ?? [];
  const method = GATEWAY_METHODS.find((m) => methods.length === 1 && m === methods[0]);
  if (methods.length === 0) return { ok: false, method, error: missing('isv.missing-method', '缺少方法名参数 (method)') };
  if (!method) return { ok: false, method, error: invalid('isv.invalid-method', `不存在的方法名 ${methods.join(',')}`) };
  const reject = (error: GatewayError): GatewayRequest => ({ ok: false, method, error });
  if (bodyError) return reject(invalid('isv.invalid-parameter', bodyError));

  const params: Record<string, string> = {};
  for (const [key, list] of values) {
    if (list.length > 1) return reject(invalid('isv.invalid-parameter', `parameter ${key} appears more than once`));
    params[key] = list[0] ?? '';
  }
  const commonError = checkCommonParams(params, now);
  if (commonError) return reject(commonError);
  const app = await verifiedApp(apps, params);
  if (app === 'unknown') return reject(invalid('isv.invalid-app-id', `无效的AppID参数 ${params.app_id}`));
  if (app === 'bad_signature') {
    // Alipay echoes the string it verified: the quickest way for a merchant to find its mistake.
    return reject(invalid('isv.invalid-signature', `验签出错，网关生成的验签字符串为：${requestSignContent(params)}`));
  }
  const biz = parseBizContent(params.biz_content);
  if (!biz) return reject({ code: '40004', subCode: 'ACQ.INVALID_PARAMETER', subMsg: 'biz_content must be a JSON object' });
  return { ok: true, method, app, params, biz };
}

/**
 * The app whose registered key verifies the request. A failed check is retried once with the app
 * re-read from the ledger, in case another sandbox process re-registered it with a new key.
 */
async function verifiedApp(apps: AppDirectory, params: Record<string, string>): Promise<App | 'unknown' | 'bad_signature'> {
  for (const fresh of [false, true]) {
    const app = await apps.get(params.app_id ?? '', { fresh });
    if (!app) return 'unknown'; // a cache miss already read the ledger
    if (verifyRequestSignature(params, app.publicKey)) return app;
  }
  return 'bad_signature';
}

function collectParams(request: { url: string; contentType: string | undefined; body: string }): {
  values: Map<string, string[]>;
  bodyError: string | undefined;
} {
  const values = new Map<string, string[]>();
  const add = (from: URLSearchParams) => {
    for (const [key, value] of from) values.set(key, [...(values.get(key) ?? []), value]);
  };
  add(new URL(request.url, 'http://gateway.invalid').searchParams);
  const mediaType = request.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === FORM_CONTENT_TYPE) add(new URLSearchParams(request.body));
  else if (request.body !== '') return { values, bodyError: `the body must be ${FORM_CONTENT_TYPE}` };
  return { values, bodyError: undefined };
}

/** §2.1: what a request must carry besides its business content; undefined when all is well. */
function checkCommonParams(params: Record<string, string>, now: Date): GatewayError | undefined {
  const required: Array<[string, string]> = [
    ['app_id', 'isv.missing-app-id'],
    ['sign', 'isv.missing-signature'],
    ['sign_type', 'isv.missing-signature-type'],
    ['timestamp', 'isv.missing-timestamp'],
    ['version', 'isv.missing-version'],
  ];
  for (const [key, subCode] of required) if (!params[key]) return missing(subCode, `缺少必选参数 ${key}`);
  const { sign_type, format, charset, version, timestamp, notify_url, return_url } = params;
  if (sign_type !== 'RSA2') return invalid('isv.invalid-signature-type', `sign_type must be RSA2, got ${sign_type}`);
  if (format !== undefined && format.toUpperCase() !== 'JSON') return invalid('isv.invalid-format', `format must be JSON, got ${format}`);
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
    return invalid('isv.invalid-charset', `the sandbox speaks utf-8 only, got charset ${charset}`);
  }
  if (version !== '1.0') return invalid('isv.invalid-version', `version must be 1.0, got ${version}`);
  const sentAt = parseBeijingTime(timestamp ?? '');
  if (!sentAt || Math.abs(sentAt.getTime() - now.getTime()) > TIMESTAMP_TOLERANCE_MS) {
    return invalid('isv.invalid-timestamp', `timestamp must be the current Beijing time as yyyy-MM-dd HH:mm:ss, got ${timestamp}`);
  }
  for (const [key, url] of [['notify_url', notify_url], ['return_url', return_url]] as const) {
    if (url !== undefined && !isHttpUrl(url)) return invalid('isv.invalid-parameter', `${key} must be an http(s) URL of at most 256 characters`);
  }
  return undefined;
}

function parseBizContent(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
