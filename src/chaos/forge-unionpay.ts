// Builds UnionPay consume notifications the way the bank would (channels.md §3.3, §3.5: form
// fields, RSA-SHA256 over the hex SHA-256 of the sorted fields, the signing certificate in
// signPubKeyCert), from the sandbox bank's certificate and key read out of its tables, so tests
// and the chaos workload can forge each field that G5 must check.
import { createHash, createPrivateKey, createSign, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { Queryable } from '../store/db.ts';
import { findAuthority } from '../sandbox/unionpay/store.ts';
import { signableString } from '../sandbox/unionpay/acp-signature.ts';
import { formatBeijingCompact } from '../channels/beijing-time.ts';

export interface UnionpayForgeKeys {
  merId: string;
  signCertPem: string;
  signPrivateKeyPem: string;
}

export async function readUnionpayForgeKeys(q: Queryable, merchant: { merId: string }): Promise<UnionpayForgeKeys> {
  const authority = await findAuthority(q);
  if (!authority) throw new Error('the UnionPay sandbox has no certificate authority yet: start it first');
  return { ...merchant, signCertPem: authority.signCertPem, signPrivateKeyPem: authority.signPrivateKeyPem };
}

export interface UnionpayForgeOptions {
  outTradeNo: string;
  amount: number;
  merId?: string;
  /** Signs with this key, one the bank does not have, instead of the bank's. */
  wrongSigningKey?: KeyObject;
  /** Sends this certificate (one that does not chain to UnionPay's root) as signPubKeyCert. */
  wrongCertPem?: string;
}

export function forgeUnionpayNotification(keys: UnionpayForgeKeys, o: UnionpayForgeOptions): { headers: Record<string, string>; body: string } {
  const now = new Date();
  const txnTime = formatBeijingCompact(now);
  const fields: Record<string, string> = {
    version: '5.1.0',
    encoding: 'UTF-8',
    bizType: '000201',
    txnType: '01',
    txnSubType: '01',
    accessType: '0',
    merId: o.merId ?? keys.merId,
    orderId: o.outTradeNo,
    txnTime,
    txnAmt: String(o.amount),
    currencyCode: '156',
    queryId: `forged${randomBytes(8).toString('hex')}`,
    respCode: '00',
    respMsg: 'success',
    traceNo: String(100000 + (randomBytes(2).readUInt16BE() % 900000)),
    traceTime: txnTime.slice(4),
    settleAmt: String(o.amount),
    settleCurrencyCode: '156',
    settleDate: txnTime.slice(4, 8),
    signMethod: '01',
    signPubKeyCert: o.wrongCertPem ?? keys.signCertPem,
  };
  // The bank's own string to sign; its digest signed here synchronously, with its key or a stranger's.
  const digest = createHash('sha256').update(signableString(fields), 'utf8').digest('hex');
  const signature = createSign('RSA-SHA256').update(digest, 'utf8').sign(o.wrongSigningKey ?? keys.signPrivateKeyPem, 'base64');
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ ...fields, signature }).toString(),
  };
}

/**
 * A stranger's certificate claiming to be UnionPay's signer (same CN) but self-signed, so it does
 * not chain to UnionPay's root; with its key, for forgeries that sign consistently with it.
 */
export function strangerCertificate(): { certPem: string; privateKey: KeyObject } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: forge.util.encodeUtf8('041@Z12@中国银联股份有限公司@00000001') }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), privateKey: createPrivateKey(forge.pki.privateKeyToPem(keys.privateKey)) };
}
