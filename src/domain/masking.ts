// What an operator may see of a channel's notification: the evidence stays readable (one field a
// line), but signatures, certificates, card and identity data and WeChat's ciphertext are cut
// down, so a screenshot of the console leaks nothing a forger or a fraudster could use. Pure.

/** Signatures and certificates: enough of the start to compare two notifications by eye. */
const SIGNATURE_FIELDS = new Set(['wechatpay-signature', 'sign', 'signature', 'signpubkeycert', 'encryptpubkeycert', 'certificate']);
/** Card, account and identity data of the buyer: the last 4 characters, as on a receipt. */
const PERSONAL_FIELDS = new Set([
  'accno',
  'customerinfo',
  'phoneno',
  'certifid',
  'buyer_logon_id',
  'buyer_id',
  'buyer_user_id',
  'buyer_open_id',
  'openid',
  'sub_openid',
  'payer_openid',
  'mobile',
  'phone',
]);
/** Encrypted payloads (WeChat's resource.ciphertext): unreadable anyway, only their size matters. */
const CIPHERTEXT_FIELDS = new Set(['ciphertext']);

const SIGNATURE_SHOWN_CHARS = 6;
const PERSONAL_SHOWN_CHARS = 4;
const CIPHERTEXT_SHOWN_CHARS = 16;

/** One field's value as an operator sees it; fields not listed above are shown as they are. */
export function maskField(name: string, value: string): string {
  const key = name.toLowerCase();
  if (SIGNATURE_FIELDS.has(key)) return `${value.slice(0, SIGNATURE_SHOWN_CHARS)}…(masked)`;
  if (PERSONAL_FIELDS.has(key)) {
    return value.length > PERSONAL_SHOWN_CHARS ? `****${value.slice(-PERSONAL_SHOWN_CHARS)}` : '****';
  }
  if (CIPHERTEXT_FIELDS.has(key) && value.length > CIPHERTEXT_SHOWN_CHARS) {
    return `${value.slice(0, CIPHERTEXT_SHOWN_CHARS)}…(${value.length} characters)`;
  }
  return value;
}

/** Stored evidence headers, masked; several values of one header are joined as HTTP would. */
export function maskHeaders(headers: Record<string, unknown>): [name: string, value: string][] {
  return Object.entries(headers).map(([name, value]) => [name, maskField(name, Array.isArray(value) ? value.join(', ') : String(value))]);
}

export interface MaskedBody {
  /** How the body was read: JSON (WeChat), a form (Alipay, UnionPay), or neither (shown as received). */
  format: 'json' | 'form' | 'text';
  text: string;
}

/** A notification body, masked: JSON indented, a form one `name=value` a line, anything else as is. */
export function maskBody(body: string): MaskedBody {
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { format: 'json', text: JSON.stringify(maskJson(JSON.parse(trimmed)), null, 2) };
    } catch {
      return { format: 'text', text: body };
    }
  }
  if (/^[^=&\s]+=/.test(trimmed) && !/[\r\n<]/.test(trimmed)) {
    const lines = [...new URLSearchParams(trimmed)].map(([name, value]) => `${name}=${maskField(name, value)}`);
    return { format: 'form', text: lines.join('\n') };
  }
  return { format: 'text', text: body };
}

function maskJson(value: unknown, name?: string): unknown {
  if (typeof value === 'string') return name === undefined ? value : maskField(name, value);
  if (Array.isArray(value)) return value.map((item) => maskJson(item, name));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskJson(item, key)]));
  }
  return value;
}
