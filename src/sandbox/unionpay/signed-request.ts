// What every gateway route does first: read the URL-encoded form, drop its blank fields (as ACP
// does before verifying, §3.3) and check its signature against the merchant's certificate.
import type { FastifyRequest } from 'fastify';
import { rawBodyOf } from '../raw-body.ts';
import { withoutBlanks, type AcpFields } from './acp-signature.ts';
import type { MerchantDirectory } from './merchants.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import { parseForm } from './wire-format.ts';

/** `fields` is what could be read even when refused, for the answer to echo. */
export type SignedRequest = { ok: true; fields: AcpFields } | { ok: false; fields: AcpFields; refusal: Refusal };

export async function readSignedRequest(req: FastifyRequest, merchants: MerchantDirectory): Promise<SignedRequest> {
  const form = parseForm(rawBodyOf(req));
  if (!form.ok) return { ok: false, fields: {}, refusal: refusal('10', form.message) };
  const fields = withoutBlanks(form.fields);
  const denied = await merchants.authenticate(fields);
  return denied ? { ok: false, fields, refusal: denied } : { ok: true, fields };
}
