// The merchants the bank knows. A merchant registers its RSA public key and the bank issues its
// signing certificate from the middle CA, as UnionPay issues the merchant's PFX; a request is then
// verified with the certificate its certId names, which must be the merchant's current one.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { LedgerCache } from '../ledger-cache.ts';
import { parseMerchantPublicKey } from '../rsa.ts';
import { verifyAcpSignature, type AcpFields } from './acp-signature.ts';
import { issueMerchantCertificate, type Authority } from './certificates.ts';
import { MER_ID } from './field-rules.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import { findMerchantByCertId, listMerchants, upsertMerchant, type MerchantRow, type Queryable } from './store.ts';

/** A certificate serial in decimal (certificates.ts makes 8-byte ones): anything else names no certificate. */
const CERT_ID = /^\d{1,40}$/;

export interface Registration {
  merId: string;
  merchantPublicKeyPem: string;
}

export type RegistrationParse = { ok: true; registration: Registration } | { ok: false; message: string };

export function parseRegistration(body: unknown): RegistrationParse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'body must be a JSON object' };
  const { merId, merchantPublicKey, ...rest } = body as Record<string, unknown>;
  if (typeof merId !== 'string' || !MER_ID.test(merId)) return { ok: false, message: 'merId must be 15 digits' };
  const key = parseMerchantPublicKey('merchantPublicKey', merchantPublicKey);
  if (!key.ok) return key;
  if (Object.keys(rest).length > 0) return { ok: false, message: `unknown fields: ${Object.keys(rest).join(', ')}` };
  return { ok: true, registration: { merId, merchantPublicKeyPem: key.publicKeyPem } };
}

/** The merchant whose current certificate a certId names, with that certificate's key. */
interface Signer {
  merId: string;
  publicKey: KeyObject;
}

export class MerchantDirectory {
  /**
   * By certId (../ledger-cache.ts). A certId names one certificate forever, so an entry never
   * needs re-parsing; it only stops being current when its merchant registers again.
   */
  private readonly signers: LedgerCache<Signer>;

  constructor(
    private readonly db: Queryable,
    private readonly authority: () => Promise<Authority>,
  ) {
    this.signers = new LedgerCache(async (certId) => {
      const row = await findMerchantByCertId(this.db, certId);
      return row && { merId: row.merId, publicKey: new X509Certificate(row.certPem).publicKey };
    });
  }

  /** Issues a new certificate (a new certId) every time, replacing the merchant's previous one. */
  async register(r: Registration): Promise<{ certId: string; certPem: string }> {
    const issued = issueMerchantCertificate(await this.authority(), r.merId, r.merchantPublicKeyPem);
    await upsertMerchant(this.db, { merId: r.merId, ...issued }, new Date());
    // The previous certId is refused from now on, here at once and in other sandbox processes once their entry expires.
    this.signers.deleteWhere((signer) => signer.merId === r.merId);
    return issued;
  }

  /**
   * Why the message (blank fields dropped) is refused, or undefined when it is signed under the
   * current certificate of its own merId.
   */
  async authenticate(fields: AcpFields): Promise<Refusal | undefined> {
    const { certId, signature, merId } = fields;
    if (certId === undefined || signature === undefined) return refusal('13', 'certId and signature are required');
    const signer = CERT_ID.test(certId) ? await this.signers.get(certId) : undefined;
    if (!signer) return refusal('11', `certId ${certId} is not the current signing certificate of a registered merchant`);
    if (signer.merId !== merId) return refusal('11', `certId ${certId} belongs to another merId`);
    if (!verifyAcpSignature(fields, signer.publicKey)) return refusal('11', 'signature does not verify with the certificate certId names');
    return undefined;
  }

  list(): Promise<MerchantRow[]> {
    return listMerchants(this.db);
  }
}
