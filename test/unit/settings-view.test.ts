// The console's settings page: every config key shown, no secret.
import { describe, expect, it } from 'vitest';
import { MASKED, NOT_SET, isSecretName, maskUrl, settingsView } from '../../src/domain/settings-view.ts';
import { resolveConfig } from '../../src/config.ts';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

describe('isSecretName', () => {
  it.each([
    ['apiKey', true],
    ['adminPassword', true],
    ['webhookSecret', true],
    ['privateKey', true],
    ['apiV3Key', true],
    ['platformPublicKey', true],
    ['alipayPublicKey', true],
    ['signCert', true],
    ['rootCert', true],
    ['signCertPassword', true],
    ['accessToken', true],
    ['certSerialNo', false],
    ['platformPublicKeyId', false],
    ['consoleSecureCookies', false],
    ['appId', false],
    ['databaseUrl', false],
    ['notifyUrl', false],
  ])('%s → %s', (name, secret) => expect(isSecretName(name)).toBe(secret));
});

describe('maskUrl', () => {
  it.each([
    ['postgres://paycenter:s3cret@db.internal:5432/pay', 'postgres://paycenter:****@db.internal:5432/pay'],
    ['redis://:hunter2hunter2@cache:6379/0', 'redis://:****@cache:6379/0'],
    ['amqps://guest:guest@mq.example.com/vhost', 'amqps://guest:****@mq.example.com/vhost'],
    ['https://ghp_tokenonly@example.com/hook', 'https://****@example.com/hook'],
    ['postgres://db/pay?user=app&password=s3cret&sslmode=require', 'postgres://db/pay?user=app&password=****&sslmode=require'],
    ['https://example.com/notify', 'https://example.com/notify'],
    ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['not a url', 'not a url'],
    ['./.paycenter', './.paycenter'],
  ])('%s → %s', (text, shown) => expect(maskUrl(text)).toBe(shown));

  it('masks the user information of a URL it cannot parse', () => {
    expect(maskUrl('postgres://app:bad pass@[::zz]/pay')).toBe('postgres://****@[::zz]/pay');
  });
});

describe('settingsView', () => {
  it('walks nested objects and lists, masks secrets by name and by value, and says what is not set', () => {
    const lines = settingsView({
      port: 8080,
      sandbox: true,
      apiKey: 'pk_live_abcdefghijklmnopqrstuvwxyz',
      adminPassword: undefined,
      queryScheduleMs: [1000, 2000],
      refundQueryScheduleMs: [],
      delivery: { webhookUrl: 'https://shop.example/hooks', webhookSecret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', amqp: { url: 'amqp://u:p4ss@mq/' } },
      channels: { alipay: { appId: '2021000000000000', privateKey: PEM, certSerialNo: 'ABC123' } },
      // A key nobody listed as secret whose value is one.
      extra: { note: PEM, leaked: 'whsec_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz' },
    });
    const shown = Object.fromEntries(lines.map((l) => [l.key, l.value]));
    expect(shown).toEqual({
      port: '8080',
      sandbox: 'on',
      apiKey: MASKED,
      adminPassword: NOT_SET,
      queryScheduleMs: '1000, 2000',
      refundQueryScheduleMs: 'none',
      'delivery.webhookUrl': 'https://shop.example/hooks',
      'delivery.webhookSecret': MASKED,
      'delivery.amqp.url': 'amqp://u:****@mq/',
      'channels.alipay.appId': '2021000000000000',
      'channels.alipay.privateKey': MASKED,
      'channels.alipay.certSerialNo': 'ABC123',
      'extra.note': MASKED,
      'extra.leaked': MASKED,
    });
    expect(lines.filter((l) => l.masked).map((l) => l.key)).toEqual([
      'apiKey',
      'adminPassword',
      'delivery.webhookSecret',
      'channels.alipay.privateKey',
      'extra.note',
      'extra.leaked',
    ]);
  });

  it('shows every key of a resolved Config and none of its secrets', () => {
    const secrets = {
      PAYCENTER_API_KEY: 'pk_test_0123456789abcdefghijklmnop',
      PAYCENTER_ADMIN_PASSWORD: 'correct-horse-battery-staple',
      PAYCENTER_WEBHOOK_URL: 'https://shop.example/hooks',
      PAYCENTER_WEBHOOK_SECRET: 'whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3Bx',
      DATABASE_URL: 'postgres://paycenter:db-password-1@db:5432/pay',
      REDIS_URL: 'redis://:redis-password-1@cache:6379',
      AMQP_URL: 'amqp://paycenter:amqp-password-1@mq:5672',
    };
    const config = resolveConfig({}, { PAYCENTER_SANDBOX: 'on', ...secrets });
    const lines = settingsView(config);
    const text = JSON.stringify(lines);
    const hidden = [secrets.PAYCENTER_API_KEY, secrets.PAYCENTER_ADMIN_PASSWORD, secrets.PAYCENTER_WEBHOOK_SECRET, 'db-password-1', 'redis-password-1', 'amqp-password-1'];
    for (const secret of hidden) expect(text).not.toContain(secret);
    const keys = lines.map((l) => l.key);
    expect(keys).toEqual(expect.arrayContaining(['port', 'databaseUrl', 'apiKey', 'adminPassword', 'delivery.webhookSecret', 'delivery.amqp.url']));
    expect(lines.find((l) => l.key === 'databaseUrl')!.value).toBe('postgres://paycenter:****@db:5432/pay');
  });
});
