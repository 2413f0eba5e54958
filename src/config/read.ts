// Readers for configuration values: each checks one value and names its key when it is wrong,
// so a bad setting stops start-up with a message that says what to fix.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';

export type Source = Record<string, unknown>;

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`config ${key}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export function parseOnOff(key: string, value: unknown): boolean {
  if (value === true || value === 'on' || value === 'true' || value === '1') return true;
  if (value === false || value === 'off' || value === 'false' || value === '0') return false;
  throw new ConfigError(key, `must be "on" or "off", got ${JSON.stringify(value)}`);
}

export function str(key: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(key, 'must be a non-empty string');
  return value;
}

export function oneOf(key: string, value: unknown, fallback: string, allowed: string[]): string {
  const v = str(key, value, fallback);
  if (!allowed.includes(v)) throw new ConfigError(key, `must be one of ${allowed.join(', ')}`);
  return v;
}

export function num(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(key, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function int(key: string, value: unknown, fallback: number, min: number, max: number): number {
  const n = num(key, value, fallback, min, max);
  if (!Number.isInteger(n)) throw new ConfigError(key, `must be a whole number, got ${JSON.stringify(value)}`);
  return n;
}

export function msList(key: string, value: unknown): number[] {
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

export function optionalUrl(key: string, value: unknown, protocols: string[]): string | undefined {
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

export function optionalApiKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const s = str('PAYCENTER_API_KEY', value, '');
  if (s.length < 24 || s.length > 200 || /\s/.test(s)) {
    throw new ConfigError('PAYCENTER_API_KEY', 'must be 24 to 200 characters without spaces');
  }
  return s;
}

/** Bare base64 of a key or certificate (as Alipay's key tool prints it): refused, and never echoed. */
const BARE_BASE64 = /^[A-Za-z0-9+/=\s]{64,}$/;

/** A PEM string, or the path of a file holding one. */
export function pem(key: string, value: unknown): string {
  const s = str(key, value, '');
  if (s.includes('-----BEGIN')) return s;
  if (!existsSync(s)) {
    if (BARE_BASE64.test(s)) {
      throw new ConfigError(key, 'looks like a bare base64 key: wrap it in PEM (-----BEGIN … KEY-----) or give the path of a PEM file');
    }
    throw new ConfigError(key, `is neither PEM text nor the path of an existing file (${s})`);
  }
  try {
    return readFileSync(s, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `file ${s} cannot be read (${(err as Error).message})`);
  }
}


/** The config section at `prefix`: an object, or start-up stops. */
export function sectionAt(prefix: string, value: unknown): Source {
  if (typeof value !== 'object' || value === null) throw new ConfigError(prefix, 'must be an object');
  return value as Source;
}

/** Stops start-up at the first of `keys` that is absent or empty. */
export function requireKeys(prefix: string, section: Source, keys: readonly string[]): Source {
  for (const k of keys) {
    if (section[k] === undefined || section[k] === '') throw new ConfigError(`${prefix}.${k}`, 'is missing');
  }
  return section;
}

/**
 * An http(s) URL without query string or fragment: a channel appends paths to it, or signs it and
 * sends it back, where parameters of our own would be mangled. The text test also catches a bare
 * trailing "?", which URL parsing reports as an empty search.
 */
export function urlWithoutQuery(key: string, value: unknown): string {
  const url = optionalUrl(key, value, ['https:', 'http:'])!;
  if (/[?#]/.test(url)) throw new ConfigError(key, 'must not carry a query string or fragment');
  return url;
}

/** Fails start-up with the key's name and node's reason only — never the key's content. */
export function readKeyObject(key: string, kind: 'private' | 'public', pemText: string): KeyObject {
  try {
    return kind === 'private' ? createPrivateKey(pemText) : createPublicKey(pemText);
  } catch (err) {
    throw new ConfigError(key, `is not a readable ${kind} key (${(err as Error).message})`);
  }
}

/** As readKeyObject, for channels that sign SHA256withRSA: an EC or Ed25519 key would only fail at the first call. */
export function readRsaKey(key: string, kind: 'private' | 'public', pemText: string): KeyObject {
  const parsed = readKeyObject(key, kind, pemText);
  if (parsed.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(key, `must be an RSA key, got ${parsed.asymmetricKeyType ?? 'an unknown type'}`);
  }
  return parsed;
}
