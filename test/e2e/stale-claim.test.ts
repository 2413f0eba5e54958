// A claim whose order never committed (its request died between the Redis claim and the commit)
// must neither block the retry nor send a client to an order that does not exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { orderFingerprint } from '../../src/domain/fingerprint.ts';
import { requireService } from '../helpers/services.ts';
import { orderBody, startTestPaycenter, type TestPaycenter } from '../helpers/paycenter.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const up = await requireService('redis');

describe.skipIf(!up)('a claim left by a request that died', () => {
  let pc: TestPaycenter;
  let redis: Redis;
  beforeAll(async () => {
    pc = await startTestPaycenter({ REDIS_URL });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await pc?.stop();
  });

  it('lets the submission through: one order, never duplicate_submission naming an order that does not exist', async () => {
    const body = orderBody();
    const fingerprint = orderFingerprint(pc.running.appId, {
      amount: body.amount as number,
      currency: body.currency as string,
      subject: body.subject as string,
    });
    await redis.set(`paycenter:submission:${pc.running.appId}:${fingerprint}`, 'ord_never_committed', 'PX', 60_000);
    const res = await pc.api('POST', '/v1/orders', body);
    expect(res.status).toBe(201);
    const again = await pc.api('POST', '/v1/orders', { ...body, merchantOrderNo: `${body.merchantOrderNo}-retry` });
    expect(again.body.error).toMatchObject({ code: 'duplicate_submission', orderId: res.body.id });
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM orders');
    expect(rows[0].n).toBe(1);
  });

  it('still names the first order once it is committed', async () => {
    const body = orderBody();
    const first = await pc.api('POST', '/v1/orders', body);
    expect(first.status).toBe(201);
    const again = await pc.api('POST', '/v1/orders', { ...body, merchantOrderNo: `${body.merchantOrderNo}-retry` });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'duplicate_submission', orderId: first.body.id });
  });
});
