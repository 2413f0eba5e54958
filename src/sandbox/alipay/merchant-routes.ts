// How a client becomes an Alipay sandbox app: it posts its app id and public key, and gets back
// its seller id and the Alipay public key it must verify the bank's answers and notifications with.
import type { FastifyInstance } from 'fastify';
import { keepRawBodies, parseJsonBody } from '../raw-body.ts';
import type { AlipayKey } from './alipay-key.ts';
import { parseAppRegistration, type AppDirectory } from './apps.ts';

/** The Alipay key is read (or made) by the first request that shows it, not when the routes are registered. */
export function alipayMerchantRoutes(deps: { apps: AppDirectory; alipayKey: () => Promise<AlipayKey> }) {
  const { apps, alipayKey } = deps;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.post('/sandbox/alipay/merchants', async (req, reply) => {
      const parsed = parseAppRegistration(parseJsonBody(req));
      if (!parsed.ok) return reply.code(400).send({ error: { code: 'invalid_request', message: parsed.message } });
      const registered = await apps.register(parsed.registration);
      return { appId: registered.appId, sellerId: registered.sellerId, alipayPublicKey: (await alipayKey()).publicKeyPem };
    });

    app.get('/sandbox/alipay/merchants', async () => ({
      alipayPublicKey: (await alipayKey()).publicKeyPem,
      merchants: (await apps.list()).map((a) => ({
        appId: a.appId,
        sellerId: a.sellerId,
        appPublicKey: a.appPublicKeyPem,
        registeredAt: a.registeredAt.toISOString(),
      })),
    }));
  };
}
