// Submitting orders through HTTP: validation, authentication, and the three layers of
// duplicate protection (Idempotency-Key, content fingerprint window, merchantOrderNo).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPaycenter, orderBody, sleep, type TestPaycenter } from '../helpers/paycenter.ts';
import { insertApp } from '../../src/store/apps.ts';
import { claimIdempotencyKey } from '../../src/store/idempotency.ts';
import { sha256, canonicalJson } from '../../src/domain/fingerprint.ts';

let pc: TestPaycenter;
let appId: string;
beforeAll(async () => {
  pc = await startTestPaycenter({ PAYCENTER_DUPLICATE_WINDOW_MS: '1500' });
  appId = pc.running.appId;
});
afterAll(() => pc?.stop());

describe('POST /v1/orders', () => {
  it('creates an order in CREATED with the documented shape', async () => {
    const body = orderBody({ description: 'green tea', customerId: 'c-1', metadata: { cart: '42' }, expiresInSeconds: 600 });
    const res = await pc.api('POST', '/v1/orders', body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      merchantOrderNo: body.merchantOrderNo,
      amount: 1999,
      currency: 'CNY',
      subject: body.subject,
      description: 'green tea',
      customerId: 'c-1',
      metadata: { cart: '42' },
      state: 'CREATED',
      payments: [],
    });
    expect(res.body.id).toMatch(/^ord_/);
    const ttl = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
    expect(ttl).toBeGreaterThan(599_000);
    expect(ttl).toBeLessThan(601_000);
    const read = await pc.api('GET', `/v1/orders/${res.body.id}`);
    expect(read.body).toEqual(res.body);
    const byNo = await pc.api('GET', `/v1/orders?merchantOrderNo=${body.merchantOrderNo}`);
    expect(byNo.body.id).toBe(res.body.id);
  });

  // One row per rejection: the field named, nothing stored.
  const invalid: [string, unknown, string][] = [
    ['zero amount', orderBody({ amount: 0 }), 'amount'],
    ['negative amount', orderBody({ amount: -5 }), 'amount'],
    ['fractional amount', orderBody({ amount: 10.5 }), 'amount'],
    ['huge amount', orderBody({ amount: 1e16 }), 'amount'],
    ['amount just above the maximum', orderBody({ amount: 10_000_000_001 }), 'amount'],
    ['amount as a string', orderBody({ amount: '100' }), 'amount'],
    ['unknown currency', orderBody({ currency: 'USD' }), 'currency'],
    ['subject too long', orderBody({ subject: 'x'.repeat(128) }), 'subject'],
    ['empty subject', orderBody({ subject: '' }), 'subject'],
    ['merchantOrderNo with spaces', orderBody({ merchantOrderNo: 'a b' }), 'merchantOrderNo'],
    ['merchantOrderNo too long', orderBody({ merchantOrderNo: 'a'.repeat(65) }), 'merchantOrderNo'],
    ['unknown field', orderBody({ coupon: 'FREE' }), 'coupon'],
    ['missing subject', { merchantOrderNo: 'm-missing', amount: 1, currency: 'CNY' }, 'subject'],
    ['metadata value not a string', orderBody({ metadata: { a: 1 } }), 'metadata.a'],
    ['expiresInSeconds zero', orderBody({ expiresInSeconds: 0 }), 'expiresInSeconds'],
  ];
  it.each(invalid)('refuses %s with 400 invalid_request naming the field', async (_name, body, field) => {
    const res = await pc.api('POST', '/v1/orders', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.field).toBe(field);
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM orders WHERE merchant_order_no = $1', [
      (body as { merchantOrderNo?: string }).merchantOrderNo ?? '',
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('accepts the boundaries just inside the limits', async () => {
    for (const body of [
      orderBody({ amount: 1 }),
      orderBody({ amount: 10_000_000_000 }),
      orderBody({ subject: 'x'.repeat(127) }),
      orderBody({ merchantOrderNo: 'a'.repeat(64) }),
    ]) {
      expect((await pc.api('POST', '/v1/orders', body)).status).toBe(201);
    }
  });

  it('refuses malformed JSON and a non-JSON body', async () => {
    const bad = await pc.api('POST', '/v1/orders', '{"amount": 1,');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const text = await pc.api('POST', '/v1/orders', 'amount=1', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');
  });

  it('refuses requests without a valid key with 401', async () => {
    const none = await pc.api('POST', '/v1/orders', orderBody(), { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const wrong = await pc.api('GET', '/v1/orders/ord_x', undefined, { authorization: 'Bearer pk_wrong_key_000000000000000' });
    expect(wrong.status).toBe(401);
  });

  it("answers 404 for another app's order", async () => {
    const otherKey = 'pk_other_app_key_0123456789abcdef';
    await insertApp(pc.db.pool, 'app_other', 'other', sha256(otherKey));
    const mine = await pc.api('POST', '/v1/orders', orderBody());
    const res = await pc.api('GET', `/v1/orders/${mine.body.id}`, undefined, { authorization: `Bearer ${otherKey}` });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const pay = await pc.api('POST', `/v1/orders/${mine.body.id}/pay`, { channel: 'wechatpay' }, { authorization: `Bearer ${otherKey}` });
    expect(pay.status).toBe(404);
  });
});

describe('duplicate protection', () => {
  it('20 concurrent identical submissions create one order; nineteen get duplicate_submission', async () => {
    const content = orderBody();
    // Each try mints its own merchantOrderNo, as a client that retries blindly would.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pc.api('POST', '/v1/orders', { ...content, merchantOrderNo: `${content.merchantOrderNo}-${i}` })),
    );
    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(19);
    for (const r of refused) {
      expect(r.body.error.code).toBe('duplicate_submission');
      expect(r.body.error.orderId).toBe(created[0]!.body.id);
    }
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM orders WHERE subject = $1', [content.subject]);
    expect(rows[0].n).toBe(1);
  });

  it('allows the same content again once the duplicate window has passed', async () => {
    const content = orderBody();
    expect((await pc.api('POST', '/v1/orders', content)).status).toBe(201);
    const again = await pc.api('POST', '/v1/orders', { ...content, merchantOrderNo: `${content.merchantOrderNo}-b` });
    expect(again.body.error.code).toBe('duplicate_submission');
    await sleep(1600);
    expect((await pc.api('POST', '/v1/orders', { ...content, merchantOrderNo: `${content.merchantOrderNo}-c` })).status).toBe(201);
  });

  it('refuses a used merchantOrderNo with merchant_order_no_exists and the order id', async () => {
    const first = await pc.api('POST', '/v1/orders', orderBody());
    const reuse = await pc.api('POST', '/v1/orders', orderBody({ merchantOrderNo: first.body.merchantOrderNo }));
    expect(reuse.status).toBe(409);
    expect(reuse.body.error.code).toBe('merchant_order_no_exists');
    expect(reuse.body.error.orderId).toBe(first.body.id);
  });

  it('Idempotency-Key: same key and body replay the first response', async () => {
    const body = orderBody();
    const key = `key-${body.merchantOrderNo}`;
    const first = await pc.api('POST', '/v1/orders', body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await pc.api('POST', '/v1/orders', body, { 'idempotency-key': key });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
  });

  it('Idempotency-Key: same key with another body is 422 idempotency_key_reused', async () => {
    const key = `key-${Date.now()}-reused`;
    expect((await pc.api('POST', '/v1/orders', orderBody(), { 'idempotency-key': key })).status).toBe(201);
    const other = await pc.api('POST', '/v1/orders', orderBody(), { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });

  it('Idempotency-Key: a key whose first request is in flight is 409 idempotency_key_in_flight', async () => {
    const body = orderBody();
    const key = `key-${Date.now()}-inflight`;
    // The recovery point "first request claimed the key and has not answered yet".
    await claimIdempotencyKey(pc.db.pool, appId, key, sha256(canonicalJson(body)), 60_000);
    const res = await pc.api('POST', '/v1/orders', body, { 'idempotency-key': key });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('idempotency_key_in_flight');
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM orders WHERE merchant_order_no = $1', [body.merchantOrderNo]);
    expect(rows[0].n).toBe(0);
  });

  it('Idempotency-Key: a claim left in flight by a crashed process is taken over after its lease', async () => {
    const body = orderBody();
    const key = `key-${Date.now()}-orphan`;
    await claimIdempotencyKey(pc.db.pool, appId, key, sha256(canonicalJson(body)), 60_000);
    await pc.db.pool.query("UPDATE idempotency_keys SET created_at = now() - interval '61 seconds' WHERE key = $1", [key]);
    const res = await pc.api('POST', '/v1/orders', body, { 'idempotency-key': key });
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('Idempotency-Key: concurrent retries of one request create one order', async () => {
    const body = orderBody();
    const key = `key-${Date.now()}-race`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => pc.api('POST', '/v1/orders', body, { 'idempotency-key': key })));
    const ids = new Set(answers.filter((a) => a.status === 201).map((a) => a.body.id));
    expect(ids.size).toBe(1);
    for (const a of answers) expect([201, 409]).toContain(a.status);
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM orders WHERE merchant_order_no = $1', [body.merchantOrderNo]);
    expect(rows[0].n).toBe(1);
  });
});

describe('documentation', () => {
  it('serves the OpenAPI document and the reference page', async () => {
    const spec = await pc.api('GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/orders',
        '/v1/orders/{id}/pay',
        '/v1/orders/{id}/timeline',
        '/v1/events',
        '/v1/events/{id}',
        '/v1/events/{id}/redeliver',
        '/v1/webhook-endpoints',
        '/v1/webhook-endpoints/{id}',
      ]),
    );
    expect(spec.body.components.schemas.Event.properties.sequence.description).toMatch(/Grows with every event of the same order/);
    const docs = await pc.api('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('duplicate_submission');
    expect(docs.body).toContain('/v1/orders/{id}/close');
    expect(docs.body).toContain('/v1/webhook-endpoints');
  });
});
