// How a client becomes a sandbox UnionPay merchant: it posts its merId and RSA public key, and
// gets back what UnionPay would hand it: its signing certificate (whose serial is the certId to
// send) and the root and middle certificates that UnionPay's signPubKeyCert must chain to.
import type { FastifyInstance } from 'fastify';
import { keepRawBodies, parseJsonBody } from '../raw-body.ts';
import type { Authority } from './certificates.ts';
import { parseRegistration, type MerchantDirectory } from './merchants.ts';

export function unionpayMerchantRoutes(deps: { merchants: MerchantDirectory; authority: () => Promise<Authority> }) {
  const { merchants, authority } = deps;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.post('/sandbox/unionpay/merchants', async (req, reply) => {
      const parsed = parseRegistration(parseJsonBody(req));
      if (!parsed.ok) return reply.code(400).send({ error: { code: 'invalid_request', message: parsed.message } });
      const { certId, certPem } = await merchants.register(parsed.registration);
      const chain = await authority();
      return {
        merId: parsed.registration.merId,
        certId,
        signCert: certPem,
        rootCert: chain.rootCertPem,
        middleCert: chain.middleCertPem,
      };
    });

    // Certificates only: the merchant's private key never reaches the bank, and the CA keys stay in the ledger.
    app.get('/sandbox/unionpay/merchants', async () => {
      const chain = await authority();
      return {
        rootCert: chain.rootCertPem,
        middleCert: chain.middleCertPem,
        merchants: (await merchants.list()).map((m) => ({
          merId: m.merId,
          certId: m.certId,
          signCert: m.certPem,
          registeredAt: m.registeredAt.toISOString(),
        })),
      };
    });
  };
}
