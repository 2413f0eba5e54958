// The merchants the bank knows. A merchant registers its RSA public key and the bank issues its
// signing certificate from the middle CA, as UnionPay issues the merchant's PFX; a request is then
// verified with the certificate its certId names, which must be the merchant's current one.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { verifyAcpSignature, type AcpFields } from './acp-signature.ts';
import { issueMerchantCertificate, type Authority } from './certificates.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import { findMerchantByCertId, listMerchants, upsertMerchant, type MerchantRow, type Queryable } from './store.ts';

const MER_ID = /^\d{15}$/;
const MODULUS_BITS_MIN = 2048;
/** Parsed keys by certId: a certId names one certificate forever, so an entry never goes stale. */
const KEY_CACHE_ENTRIES_MAX = 10_000;

export interface Registration {
  merId: string;
  merchantPublicKeyPem: string;
}

export type RegistrationParse = { ok: true; registration: Registration } | { ok: false; message: string };

export function parseRegistration(body: unknown): RegistrationParse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'body must be a JSON object' };
  const { merId, merchantPublicKey, ...rest } = body as Record<string, unknown>;
  if (typeof merId !== 'string' || !MER_ID.test(merId)) return { ok: false, message: 'merId must be 15 digits' };
  if (typeof merchantPublicKey !== 'string') return { ok: false, message: 'merchantPublicKey must be a PEM string' };
  const key = readRsaPublicKey(merchantPublicKey);
  if (!key) return { ok: false, message: `merchantPublicKey must be a PEM RSA public key of at least ${MODULUS_BITS_MIN} bits` };
  if (Object.keys(rest).length > 0) return { ok: false, message: `unknown fields: ${Object.keys(rest).join(', ')}` };
  // Re-exported, so a private key pasted by mistake is never written into a certificate or the ledger.
  return { ok: true, registration: { merId, merchantPublicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString() } };
}

function readRsaPublicKey(pem: string): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return undefined;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return key.asymmetricKeyType === 'rsa' && bits >= MODULUS_BITS_MIN ? key : undefined;
}

export class MerchantDirectory {
  private readonly keys = new Map<string, KeyObject>();

  constructor(
    private readonly db: Queryable,
    private readonly authority: () => Promise<Authority>,
  ) {}

  /** Issues a new certificate (a new certId) every time, replacing the merchant's previous one. */
  async register(r: Registration): Promise<{ certId: string; certPem: string }> {
    const issued = issueMerchantCertificate(await this.authority(), r.merId, r.merchantPublicKeyPem);
    await upsertMerchant(this.db, { merId: r.merId, ...issued }, new Date());
    return issued;
  }

  /**
   * Why the message (blank fields dropped) is refused, or undefined when it is signed under the
   * current certificate of its own merId. The certificate is read from the ledger each time, so a
   * re-registration in another sandbox process takes effect at once.
   */
  async authenticate(fields: AcpFields): Promise<Refusal | undefined> {
    const { certId, signature, merId } = fields;
    if (certId === undefined || signature === undefined) return refusal('13', 'certId and signature are required');
    const row = await findMerchantByCertId(this.db, certId);
    if (!row) return refusal('11', `certId ${certId} is not the current signing certificate of a registered merchant`);
    if (row.merId !== merId) return refusal('11', `certId ${certId} belongs to another merId`);
    if (!verifyAcpSignature(fields, this.publicKeyOf(row))) return refusal('11', 'signature does not verify with the certificate certId names');
    return undefined;
  }

  private publicKeyOf(row: MerchantRow): KeyObject {
    let publicKey = this.keys.get(row.certId);
    if (!publicKey) {
      publicKey = new X509Certificate(row.certPem).publicKey;
      if (this.keys.size >= KEY_CACHE_ENTRIES_MAX) this.keys.clear();
      this.keys.set(row.certId, publicKey);
    }
    return publicKey;
  }

  list(): Promise<MerchantRow[]> {
    return listMerchants(this.db);
  }
}
