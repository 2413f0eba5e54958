// The bank's side of §3.3: every answer and notification carries UnionPay's signing certificate in
// signPubKeyCert and is signed with its key. The chain is made once per database and kept in the
// ledger, so a restarted sandbox (or a second one) signs with the certificate merchants already trust.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { acpSignature, type AcpFields } from './acp-signature.ts';
import { createAuthority, type Authority } from './certificates.ts';
import { findAuthority, insertAuthorityIfAbsent, type Queryable } from './store.ts';

export interface BankSigner {
  /** PEM with \r\n line ends, as UnionPay sends signPubKeyCert (§3.1). */
  signCertPem: string;
  privateKey: KeyObject;
}

export async function loadOrCreateAuthority(q: Queryable): Promise<Authority> {
  return (await findAuthority(q)) ?? (await insertAuthorityIfAbsent(q, await createAuthority()));
}

export function bankSignerOf(authority: Authority): BankSigner {
  const privateKey = createPrivateKey(authority.signPrivateKeyPem);
  // Guards against a hand-edited row whose halves do not match: every signature would fail to verify.
  const certKey = new X509Certificate(authority.signCertPem).publicKey.export({ type: 'spki', format: 'pem' });
  const derivedKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' });
  if (certKey !== derivedKey) throw new Error('sandbox_unionpay.authority: the signing key does not match the signing certificate');
  return { signCertPem: authority.signCertPem.replace(/\r?\n/g, '\r\n'), privateKey };
}

/** The fields with signMethod, signPubKeyCert and the signature over all of them added. */
export async function signAsBank(fields: AcpFields, signer: BankSigner): Promise<AcpFields> {
  const signed: AcpFields = { ...fields, signMethod: '01', signPubKeyCert: signer.signCertPem };
  return { ...signed, signature: await acpSignature(signed, signer.privateKey) };
}
