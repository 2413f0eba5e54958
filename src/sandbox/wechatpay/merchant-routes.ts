// How a client becomes a sandbox merchant: it posts its public key, certificate serial and APIv3
// key, and gets back the platform public key it must verify the bank's answers with.
import type { FastifyInstance } from 'fastify';
import { keepRawBodies, parseJsonBody } from '../raw-body.ts';
import { parseMerchantRegistration, type MerchantDirectory } from './merchants.ts';
import type { PlatformKey } from './platform-key.ts';

export function wechatpayMerchantRoutes(deps: { merchants: MerchantDirectory; platformKey: PlatformKey }) {
  const { merchants, platformKey } = deps;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.post('/sandbox/wechatpay/merchants', async (req, reply) => {
      const parsed = parseMerchantRegistration(parseJsonBody(req));
      if (!parsed.ok) return reply.code(400).send({ error: { code: 'invalid_request', message: parsed.message } });
      await merchants.register(parsed.registration);
      return {
        mchId: parsed.registration.mchId,
        platformPublicKey: platformKey.publicKeyPem,
        platformPublicKeyId: platformKey.keyId,
      };
    });

    app.get('/sandbox/wechatpay/merchants', async () => ({
      platformPublicKey: platformKey.publicKeyPem,
      platformPublicKeyId: platformKey.keyId,
      // Never the APIv3 key: it is the merchant's secret.
      merchants: (await merchants.list()).map((m) => ({
        mchId: m.mchId,
        appId: m.appId,
        merchantCertSerialNo: m.merchantCertSerialNo,
        merchantPublicKey: m.merchantPublicKeyPem,
        registeredAt: m.registeredAt.toISOString(),
      })),
    }));
  };
}
