// channels.unionpay in the config file: a UnionPay online gateway merchant (ACP 5.1.0). Every key
// and certificate is checked here, so a bad one stops start-up naming its key instead of failing
// every payment later. Messages never quote key material.
import { createPrivateKey, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { isIssuedBy, readCertificate, validityOf } from '../channels/unionpay/certificates.ts';
import {
  ConfigError,
  int,
  oneOf,
  optionalUrl,
  parseOnOff,
  pem,
  readRsaKey,
  requireKeys,
  sectionAt,
  str,
  urlWithoutQuery,
  type Source,
} from './read.ts';

export interface UnionpayConfig {
  /** Merchant code (AN15). */
  merId: string;
  /** e.g. https://gateway.95516.com, no trailing slash; may carry a path prefix. */
  gatewayUrl: string;
  /** Where the daily bill is asked for (fileTransRequest.do below it), no trailing slash; default gatewayUrl. */
  fileUrl: string;
  /** PEM of the merchant signing key. */
  privateKey: string;
  /** PEM of the merchant signing certificate; its serial number is the certId. */
  signCert: string;
  /** PEM of UnionPay's root certificate (acp_prod_root.cer / acp_test_root.cer). */
  rootCert: string;
  /** PEM of UnionPay's middle certificate, issued by rootCert. */
  middleCert: string;
  /** Where UnionPay posts notifications; no query string (it would break verification, §3.3). */
  backUrl: string;
  /** Where the buyer's browser returns; informative only, never proof of payment. */
  frontUrl: string;
  /** Require UnionPay's name in the signing certificate's CN. Default true; UnionPay's test environment needs false. */
  validateCnName: boolean;
  /** '07' PC/pad (default), '08' mobile. */
  channelType: '07' | '08';
  /** Per-call timeout of the query; a slower answer is "unknown". Default 10 000. */
  requestTimeoutMs: number;
  /** After payTimeout plus this, a query's answer is final (clock skew, in-flight payments). Default 60 000. */
  expiryGraceMs: number;
}

const PREFIX = 'channels.unionpay';
const REQUIRED_KEYS = ['merId', 'gatewayUrl', 'rootCert', 'middleCert', 'backUrl', 'frontUrl'] as const;
const KNOWN_KEYS = new Set<string>([
  ...REQUIRED_KEYS,
  'fileUrl',
  'privateKey',
  'signCert',
  'signCertPfx',
  'signCertPassword',
  'validateCnName',
  'channelType',
  'requestTimeoutMs',
  'expiryGraceMs',
]);
const MER_ID = /^[0-9A-Za-z]{15}$/;

export function parseUnionpay(value: unknown): UnionpayConfig {
  const u = sectionAt(PREFIX, value);
  // A misspelt optional key (validateCNName) would otherwise be silently replaced by its default.
  const unknown = Object.keys(u).find((k) => !KNOWN_KEYS.has(k));
  if (unknown !== undefined) throw new ConfigError(`${PREFIX}.${unknown}`, 'is not a UnionPay setting');
  requireKeys(PREFIX, u, REQUIRED_KEYS);
  const merId = str(`${PREFIX}.merId`, u.merId, '');
  if (!MER_ID.test(merId)) throw new ConfigError(`${PREFIX}.merId`, 'must be 15 letters or digits');
  const nowMs = Date.now();
  const { privateKey, signCert } = readMerchantKey(u, nowMs);
  const { rootCert, middleCert } = readUnionpayChain(u, nowMs);
  // gatewayUrl and fileUrl get the endpoint paths appended, and ACP warns that a backUrl's own `?a=b`
  // parameters must be stripped before a notification is verified: none may carry a query.
  const gatewayUrl = urlWithoutQuery(`${PREFIX}.gatewayUrl`, u.gatewayUrl).replace(/\/+$/, '');
  // UnionPay serves files from a host of its own; the sandbox from its gateway, hence the default.
  const fileUrl = u.fileUrl === undefined ? gatewayUrl : urlWithoutQuery(`${PREFIX}.fileUrl`, u.fileUrl).replace(/\/+$/, '');
  return {
    merId,
    gatewayUrl,
    fileUrl,
    privateKey,
    signCert,
    rootCert,
    middleCert,
    backUrl: urlWithoutQuery(`${PREFIX}.backUrl`, u.backUrl),
    frontUrl: optionalUrl(`${PREFIX}.frontUrl`, u.frontUrl, ['https:', 'http:'])!,
    validateCnName: u.validateCnName === undefined ? true : parseOnOff(`${PREFIX}.validateCnName`, u.validateCnName),
    channelType: oneOf(`${PREFIX}.channelType`, u.channelType, '07', ['07', '08']) as '07' | '08',
    requestTimeoutMs: int(`${PREFIX}.requestTimeoutMs`, u.requestTimeoutMs, 10_000, 100, 60_000),
    // Up to an hour: beyond that a closed order waits too long to be called closed.
    expiryGraceMs: int(`${PREFIX}.expiryGraceMs`, u.expiryGraceMs, 60_000, 0, 3_600_000),
  };
}

interface MerchantKey {
  privateKey: string;
  signCert: string;
}

/** Either privateKey + signCert (PEM text or paths), or the .pfx UnionPay issues with its password. */
function readMerchantKey(u: Source, nowMs: number): MerchantKey {
  const hasPem = u.privateKey !== undefined || u.signCert !== undefined;
  if (u.signCertPfx !== undefined) {
    if (hasPem) {
      throw new ConfigError(`${PREFIX}.signCertPfx`, 'give either signCertPfx with signCertPassword, or privateKey with signCert, not both');
    }
    return checkMerchantKey(readPfx(u.signCertPfx, u.signCertPassword), 'signCertPfx', 'signCertPfx', nowMs);
  }
  for (const k of ['privateKey', 'signCert'] as const) {
    if (u[k] === undefined || u[k] === '') {
      throw new ConfigError(`${PREFIX}.${k}`, 'is missing (give privateKey and signCert, or signCertPfx and signCertPassword)');
    }
  }
  const key = { privateKey: pem(`${PREFIX}.privateKey`, u.privateKey), signCert: pem(`${PREFIX}.signCert`, u.signCert) };
  return checkMerchantKey(key, 'privateKey', 'signCert', nowMs);
}

function checkMerchantKey(key: MerchantKey, keyName: string, certName: string, nowMs: number): MerchantKey {
  // signMethod 01 is SHA256withRSA.
  const privateKey = readRsaKey(`${PREFIX}.${keyName}`, 'private', key.privateKey);
  const cert = readCertificate(key.signCert);
  if (!cert) throw new ConfigError(`${PREFIX}.${certName}`, 'is not a readable X.509 certificate');
  if (!cert.checkPrivateKey(privateKey)) throw new ConfigError(`${PREFIX}.${keyName}`, 'private key does not match signCert');
  checkValidity(cert, certName, 'signCert', nowMs);
  return key;
}

/** The key and the certificate that belongs to it, as PEM, out of a PKCS#12 file. */
function readPfx(pathValue: unknown, passwordValue: unknown): MerchantKey {
  const key = `${PREFIX}.signCertPfx`;
  const path = str(key, pathValue, '');
  if (passwordValue === undefined) throw new ConfigError(`${PREFIX}.signCertPassword`, 'is missing (the password of signCertPfx)');
  // A YAML/JSON number would lose its leading zeros ("000000" is UnionPay's test password).
  if (typeof passwordValue !== 'string') throw new ConfigError(`${PREFIX}.signCertPassword`, 'must be a string (quote it)');
  let der: Buffer;
  try {
    der = readFileSync(path);
  } catch (err) {
    throw new ConfigError(key, `file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))), false, passwordValue);
  } catch {
    throw new ConfigError(key, `file ${path} cannot be opened: not a PKCS#12 file, or signCertPassword is wrong`);
  }
  const keys = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ].flatMap((bag) => (bag.key ? [bag.key] : []));
  if (keys.length !== 1) throw new ConfigError(key, `must hold exactly one readable private key, found ${keys.length}`);
  const privateKey = forge.pki.privateKeyToPem(keys[0]!);
  const keyObject = createPrivateKey(privateKey);
  const certs = (p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []).flatMap((bag) =>
    bag.cert ? [forge.pki.certificateToPem(bag.cert)] : [],
  );
  // The file may carry CA certificates too: the signing certificate is the one of this key.
  const signCert = certs.find((c) => readCertificate(c)?.checkPrivateKey(keyObject));
  if (signCert === undefined) throw new ConfigError(key, 'holds no certificate for its private key');
  return { privateKey, signCert };
}

interface UnionpayChain {
  rootCert: string;
  middleCert: string;
}

function readUnionpayChain(u: Source, nowMs: number): UnionpayChain {
  const rootCert = pem(`${PREFIX}.rootCert`, u.rootCert);
  const middleCert = pem(`${PREFIX}.middleCert`, u.middleCert);
  const root = readCertificate(rootCert);
  if (!root) throw new ConfigError(`${PREFIX}.rootCert`, 'is not a readable X.509 certificate');
  const middle = readCertificate(middleCert);
  if (!middle) throw new ConfigError(`${PREFIX}.middleCert`, 'is not a readable X.509 certificate');
  checkValidity(root, 'rootCert', 'rootCert', nowMs);
  checkValidity(middle, 'middleCert', 'middleCert', nowMs);
  if (!middle.ca) throw new ConfigError(`${PREFIX}.middleCert`, 'is not a CA certificate');
  if (!isIssuedBy(middle, root)) throw new ConfigError(`${PREFIX}.middleCert`, 'is not issued by rootCert');
  return { rootCert, middleCert };
}

function checkValidity(cert: X509Certificate, keyName: string, label: string, nowMs: number): void {
  const { fromMs, toMs } = validityOf(cert);
  if (!(nowMs <= toMs)) throw new ConfigError(`${PREFIX}.${keyName}`, `${label} expired on ${cert.validTo}`);
  if (!(nowMs >= fromMs)) throw new ConfigError(`${PREFIX}.${keyName}`, `${label} is not valid before ${cert.validFrom}`);
}
