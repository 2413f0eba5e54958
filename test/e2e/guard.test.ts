// The duplicate-submission guard, on PostgreSQL (the default) and on Redis (REDIS_URL): the same contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { requireService } from '../helpers/services.ts';
import { startTestPaycenter, orderBody, type TestPaycenter } from '../helpers/paycenter.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await requireService('redis', redisUrl);

const guards: [string, Record<string, string>, boolean][] = [
  ['postgres', {}, true],
  ['redis', { REDIS_URL: redisUrl }, redisUp],
];

describe.each(guards)('duplicate guard on %s', (kind, env, available) => {
  let pc: TestPaycenter;
  let redis: Redis;
  beforeAll(async () => {
    if (!available) return;
    pc = await startTestPaycenter(env);
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await pc?.stop();
  });

  it.skipIf(!available)('is the guard in use', () => {
    expect(pc.running.ctx.guard.kind).toBe(kind);
  });

  it.skipIf(!available)('20 concurrent identical submissions create one order; nineteen get duplicate_submission', async () => {
    const content = orderBody();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pc.api('POST', '/v1/orders', { ...content, merchantOrderNo: `${content.merchantOrderNo}-${i}` })),
    );
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(r.body.error).toMatchObject({ code: 'duplicate_submission', orderId: created[0]!.body.id });
    if (kind === 'redis') {
      const keys = await redis.keys(`paycenter:submission:${pc.running.appId}:*`);
      expect(keys).toHaveLength(1);
      const ttl = await redis.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10_000);
    }
  });

  it.skipIf(!available)('gives the claim back when the order is refused for its merchantOrderNo', async () => {
    const first = await pc.api('POST', '/v1/orders', orderBody());
    const content = orderBody({ merchantOrderNo: first.body.merchantOrderNo });
    const refused = await pc.api('POST', '/v1/orders', content);
    expect(refused.body.error.code).toBe('merchant_order_no_exists');
    // The same content under a fresh number is a new purchase, not a duplicate of a refused one.
    const retried = await pc.api('POST', '/v1/orders', { ...content, merchantOrderNo: `${first.body.merchantOrderNo}-x` });
    expect(retried.status).toBe(201);
  });
});
