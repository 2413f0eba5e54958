// How a client becomes an Alipay sandbox app: it posts its app id and public key, and gets back
// its seller id and the Alipay public key it must verify the bank's answers and notifications with.
import type { FastifyInstance } from 'fastify';
import { keepRawBodies, parseJsonBody } from '../raw-body.ts';
import type { AlipayKey } from './alipay-key.ts';
import { parseAppRegistration, registerApp } from './apps.ts';
import { listApps, type Queryable } from './store.ts';

export function alipayMerchantRoutes(deps: { db: Queryable; alipayKey: AlipayKey }) {
  const { db, alipayKey } = deps;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.post('/sandbox/alipay/merchants', async (req, reply) => {
      const parsed = parseAppRegistration(parseJsonBody(req));
      if (!parsed.ok) return reply.code(400).send({ error: { code: 'invalid_request', message: parsed.message } });
      const registered = await registerApp(db, parsed.registration);
      return { appId: registered.appId, sellerId: registered.sellerId, alipayPublicKey: alipayKey.publicKeyPem };
    });

    app.get('/sandbox/alipay/merchants', async () => ({
      alipayPublicKey: alipayKey.publicKeyPem,
      merchants: (await listApps(db)).map((a) => ({
        appId: a.appId,
        sellerId: a.sellerId,
        appPublicKey: a.appPublicKeyPem,
        registeredAt: a.registeredAt.toISOString(),
      })),
    }));
  };
}
