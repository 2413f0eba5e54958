// The effective configuration as the console shows it: every key with its value, secrets masked.
// Pure. A secret is recognised three ways, so a setting added later is masked without anyone
// remembering to list it: by its name (password, secret, private key, API key, certificate…), by
// its value (PEM text, a whsec_ or pk_ key), and inside URLs (the password and secret parameters).

export interface SettingLine {
  /** Dotted path in the config object, e.g. `delivery.webhookSecret`. */
  key: string;
  value: string;
  masked: boolean;
}

export const MASKED = 'set (masked)';
export const NOT_SET = 'not set';
const URL_MASK = '****';

/**
 * Names of secrets: any with password, secret, private or token in them, and any that ends in
 * key or cert (apiKey, apiV3Key, platformPublicKey, signCert) — ids such as certSerialNo and
 * platformPublicKeyId do not.
 */
const SECRET_NAME = /(password|passphrase|secret|private|token|credential)|(key|cert|certs|certificate|pem|pfx|p12)$/i;

/** Values that are secrets whatever their key is called. */
const SECRET_VALUE = /-----BEGIN [A-Z0-9 ]+-----|^whsec_|^pk_/;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A URL with its password (and a user name standing alone, often a token) and its secret query
 * parameters masked: postgres://app:s3cret@db/pay → postgres://app:****@db/pay. Text that is not a
 * URL with a scheme is returned as it is.
 */
export function maskUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Unparseable but URL-shaped: mask whatever sits between "//user:" and the last "@".
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, `$1${URL_MASK}@`);
  }
  if (url.password) url.password = URL_MASK;
  else if (url.username) url.username = URL_MASK;
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_NAME.test(name) || /^pass/i.test(name)) url.searchParams.set(name, URL_MASK);
  }
  return url.toString();
}

function display(value: unknown): string {
  if (value === undefined || value === null) return NOT_SET;
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return typeof value === 'string' ? maskUrl(value) : String(value);
}

function isPlainList(value: unknown[]): boolean {
  return value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
}

/** Every leaf of `config`, in its key order, secrets masked. */
export function settingsView(config: object): SettingLine[] {
  const lines: SettingLine[] = [];
  const walk = (value: unknown, path: string[], secretName: boolean): void => {
    const key = path.join('.');
    if (Array.isArray(value) && !isPlainList(value)) {
      value.forEach((v, i) => walk(v, [...path, String(i)], secretName));
      return;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k], secretName || isSecretName(k));
      return;
    }
    const items = Array.isArray(value) ? value : [value];
    const secret = secretName || items.some((v) => typeof v === 'string' && SECRET_VALUE.test(v));
    if (secret) {
      lines.push({ key, value: value === undefined || value === null || value === '' ? NOT_SET : MASKED, masked: true });
      return;
    }
    const shown = Array.isArray(value) ? (value.length === 0 ? 'none' : value.map(display).join(', ')) : display(value);
    lines.push({ key, value: shown, masked: false });
  };
  walk(config, [], false);
  return lines;
}
