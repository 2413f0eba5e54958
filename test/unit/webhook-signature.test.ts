// Standard Webhooks signatures, checked against the independent `standardwebhooks` package both
// ways, and every rejection code of verifyWebhook.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError, type WebhookVerificationCode } from '../../src/client/index.ts';
import { isWebhookSecret, newWebhookSecret, signWebhook } from '../../src/domain/webhook-signature.ts';
import { eventFixture, signedDelivery } from '../helpers/client-fixtures.ts';

const secret = newWebhookSecret();
const otherSecret = newWebhookSecret();
const NOW_SEC = 1_900_000_000;
const now = () => NOW_SEC * 1000;

function rejection(run: () => unknown): WebhookVerificationCode | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.code;
    throw err;
  }
}

describe('webhook secrets', () => {
  it('newWebhookSecret is whsec_ + base64 of 32 bytes, valid for us and for standardwebhooks', () => {
    const s = newWebhookSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(isWebhookSecret(s)).toBe(true);
    expect(() => new Webhook(s)).not.toThrow();
    expect(newWebhookSecret()).not.toBe(s);
  });

  it.each([
    ['whsec_ + 24 bytes', `whsec_${Buffer.alloc(24, 1).toString('base64')}`, true],
    ['whsec_ + 64 bytes', `whsec_${Buffer.alloc(64, 1).toString('base64')}`, true],
    ['whsec_ + 23 bytes', `whsec_${Buffer.alloc(23, 1).toString('base64')}`, false],
    ['whsec_ + 65 bytes', `whsec_${Buffer.alloc(65, 1).toString('base64')}`, false],
    ['no prefix', Buffer.alloc(32, 1).toString('base64'), false],
    ['base64url, not base64', `whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`, false],
    ['missing padding', `whsec_${Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')}`, false],
    ['not a string', 42, false],
  ])('isWebhookSecret(%s) is %s', (_name, s, valid) => {
    expect(isWebhookSecret(s)).toBe(valid);
  });

  it('signing or verifying with a malformed secret is a configuration error, not a verification failure', () => {
    const event = eventFixture();
    expect(() => signWebhook('whsec_short', event.id, NOW_SEC, '{}')).toThrow(TypeError);
    const delivery = signedDelivery(secret, event, NOW_SEC);
    expect(() => verifyWebhook(delivery.headers, delivery.rawBody, 'not-a-secret', { now })).toThrow(/copy it exactly/);
  });
});

describe('interoperability with the standardwebhooks package', () => {
  it('our signature verifies with standardwebhooks, and is the one it computes', () => {
    const event = eventFixture();
    const body = JSON.stringify(event);
    const ts = Math.floor(Date.now() / 1000);
    const signature = signWebhook(secret, event.id, ts, body);
    const headers = { 'webhook-id': event.id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    expect(new Webhook(secret).verify(body, headers)).toEqual(event);
    expect(signature).toBe(new Webhook(secret).sign(event.id, new Date(ts * 1000), body));
    expect(signWebhook(secret, event.id, ts, Buffer.from(body))).toBe(signature);
  });

  it('a signature made by standardwebhooks verifies with verifyWebhook, non-ASCII body included', () => {
    const event = eventFixture('order.paid', { subject: '绿茶 🍵' });
    const body = JSON.stringify(event);
    const signature = new Webhook(secret).sign(event.id, new Date(NOW_SEC * 1000), body);
    const headers = { 'webhook-id': event.id, 'webhook-timestamp': String(NOW_SEC), 'webhook-signature': signature };
    expect(verifyWebhook(headers, body, secret, { now })).toEqual(event);
    expect(verifyWebhook(headers, Buffer.from(body), secret, { now })).toEqual(event);
  });
});

describe('verifyWebhook', () => {
  const event = eventFixture();
  const good = signedDelivery(secret, event, NOW_SEC);
  const verify = (headers: Record<string, string | string[] | undefined>, body = good.rawBody, s = secret) =>
    rejection(() => verifyWebhook(headers, body, s, { now }));
  const resigned = (patch: Record<string, unknown>) =>
    signedDelivery(secret, event, NOW_SEC, JSON.stringify({ ...event, ...patch }));

  it.each<[string, () => WebhookVerificationCode | 'accepted', WebhookVerificationCode | 'accepted']>([
    ['the delivery as sent', () => verify(good.headers), 'accepted'],
    ['a tampered body', () => verify(good.headers, good.rawBody.replace('1999', '1')), 'bad_signature'],
    ['a tampered webhook-id', () => verify({ ...good.headers, 'webhook-id': 'evt_other' }), 'bad_signature'],
    ['a tampered webhook-timestamp', () => verify({ ...good.headers, 'webhook-timestamp': String(NOW_SEC + 1) }), 'bad_signature'],
    ['the wrong secret', () => verify(good.headers, good.rawBody, otherSecret), 'bad_signature'],
    ['only an unknown signature version', () => verify({ ...good.headers, 'webhook-signature': good.headers['webhook-signature']!.replace('v1,', 'v2,') }), 'bad_signature'],
    ['a truncated signature', () => verify({ ...good.headers, 'webhook-signature': good.headers['webhook-signature']!.slice(0, 20) }), 'bad_signature'],
    ['signed 300 s ago', () => verify(signedDelivery(secret, event, NOW_SEC - 300).headers), 'accepted'],
    ['signed 301 s ago', () => verify(signedDelivery(secret, event, NOW_SEC - 301).headers), 'timestamp_out_of_tolerance'],
    ['signed 300 s ahead', () => verify(signedDelivery(secret, event, NOW_SEC + 300).headers), 'accepted'],
    ['signed 301 s ahead', () => verify(signedDelivery(secret, event, NOW_SEC + 301).headers), 'timestamp_out_of_tolerance'],
    ['no webhook-id', () => verify({ ...good.headers, 'webhook-id': undefined }), 'missing_headers'],
    ['no webhook-timestamp', () => verify({ ...good.headers, 'webhook-timestamp': undefined }), 'missing_headers'],
    ['no webhook-signature', () => verify({ ...good.headers, 'webhook-signature': '' }), 'missing_headers'],
    ['signed with a timestamp in ms', () => verify(signedDelivery(secret, event, NOW_SEC * 1000).headers), 'missing_headers'],
    ['a non-numeric webhook-timestamp', () => verify({ ...good.headers, 'webhook-timestamp': '2030-01-01' }), 'missing_headers'],
  ])('%s', (_name, run, expected) => {
    expect(run()).toBe(expected);
  });

  it.each([
    ['a body whose id is not the webhook-id', { id: 'evt_other' }, /not the signed webhook-id/],
    ['an unknown event type', { type: 'subscription.renewed' }, /upgrade paycenter\/client/],
    ['an event without an order', { data: {} }, /data.order/],
    ['a non-integer sequence', { sequence: '2' }, /sequence/],
  ])('a correctly signed body that is %s is bad_payload', (_name, patch, message) => {
    const delivery = resigned(patch);
    expect(() => verifyWebhook(delivery.headers, delivery.rawBody, secret, { now })).toThrow(message);
    expect(verify(delivery.headers, delivery.rawBody)).toBe('bad_payload');
  });

  it('a correctly signed body that is not JSON is bad_payload', () => {
    const delivery = signedDelivery(secret, event, NOW_SEC, 'not json');
    expect(verify(delivery.headers, delivery.rawBody)).toBe('bad_payload');
  });

  it('accepts any one matching v1 signature, as during a secret rotation', () => {
    const old = signedDelivery(otherSecret, event, NOW_SEC).headers['webhook-signature'];
    const current = good.headers['webhook-signature'];
    expect(verify({ ...good.headers, 'webhook-signature': `${old} ${current}` })).toBe('accepted');
    expect(verify({ ...good.headers, 'webhook-signature': `v2,abc ${current} ${old}` })).toBe('accepted');
    expect(verify({ ...good.headers, 'webhook-signature': `${old} v2,abc` })).toBe('bad_signature');
  });

  it('honours toleranceSec', () => {
    const late = signedDelivery(secret, event, NOW_SEC - 30);
    expect(rejection(() => verifyWebhook(late.headers, late.rawBody, secret, { now, toleranceSec: 30 }))).toBe('accepted');
    expect(rejection(() => verifyWebhook(late.headers, late.rawBody, secret, { now, toleranceSec: 29 }))).toBe(
      'timestamp_out_of_tolerance',
    );
  });

  it('reads headers in any case, as arrays, or from a WHATWG Headers', () => {
    const upper = Object.fromEntries(Object.entries(good.headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verify(upper)).toBe('accepted');
    expect(verify({ ...good.headers, 'webhook-signature': ['v2,abc', good.headers['webhook-signature']!] })).toBe('accepted');
    expect(verifyWebhook(new Headers(good.headers), good.rawBody, secret, { now })).toEqual(event);
  });

  it('tells the user what to check', () => {
    expect(() => verifyWebhook({}, good.rawBody, secret, { now })).toThrow(/proxies pass these headers through/);
    expect(() => verifyWebhook(good.headers, `${good.rawBody} `, secret, { now })).toThrow(/exactly as received/);
    const stale = signedDelivery(secret, event, NOW_SEC - 3600);
    expect(() => verifyWebhook(stale.headers, stale.rawBody, secret, { now })).toThrow(/3600 s old.*clock/);
  });
});
