// Configuration: defaults, environment over file, and a clear error naming the key for each bad value.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const wechatpay = {
  mchId: '1900000109',
  appId: 'wxd678efh567hg6787',
  apiBaseUrl: 'https://api.mch.weixin.qq.com',
  privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  certSerialNo: 'ABC123',
  apiV3Key: '0123456789abcdef0123456789abcdef',
  platformPublicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  platformPublicKeyId: 'PUB_KEY_ID_0001',
  notifyUrl: 'https://shop.example.com/notify/wechatpay',
};

describe('resolveConfig', () => {
  it('has the documented defaults', () => {
    const c = resolveConfig({}, {});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: './.paycenter',
      orderTtlMs: 900_000,
      duplicateWindowMs: 10_000,
      sandbox: true,
      sandboxTimeScale: 1,
      queryScheduleMs: undefined,
    });
  });

  it('lets the environment override the file', () => {
    const c = resolveConfig({ PORT: 9000, PAYCENTER_QUERY_SCHEDULE: '1000,2000' }, { PORT: '9001' });
    expect(c.port).toBe(9001);
    expect(c.queryScheduleMs).toEqual([1000, 2000]);
  });

  it('turns the sandbox off by default when real WeChat Pay credentials are configured', () => {
    expect(resolveConfig({ channels: { wechatpay } }, {}).sandbox).toBe(false);
    expect(resolveConfig({ channels: { wechatpay } }, { PAYCENTER_SANDBOX: 'on' }).sandbox).toBe(true);
  });

  const bad: [string, Record<string, unknown>, Record<string, string>, string][] = [
    ['a port out of range', {}, { PORT: '70000' }, 'PORT'],
    ['a non-numeric TTL', {}, { PAYCENTER_ORDER_TTL_MS: 'soon' }, 'PAYCENTER_ORDER_TTL_MS'],
    ['a bad schedule entry', {}, { PAYCENTER_QUERY_SCHEDULE: '1000,-5' }, 'PAYCENTER_QUERY_SCHEDULE'],
    ['a bad database URL', {}, { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    ['a short API key', {}, { PAYCENTER_API_KEY: 'short' }, 'PAYCENTER_API_KEY'],
    ['a bad sandbox switch', {}, { PAYCENTER_SANDBOX: 'maybe' }, 'PAYCENTER_SANDBOX'],
    ['sandbox off without channels', {}, { PAYCENTER_SANDBOX: 'off' }, 'PAYCENTER_SANDBOX'],
    ['a missing WeChat Pay key', { channels: { wechatpay: { ...wechatpay, mchId: undefined } } }, {}, 'channels.wechatpay.mchId'],
    ['an unreadable private key', { channels: { wechatpay: { ...wechatpay, privateKey: '-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----' } } }, {}, 'channels.wechatpay.privateKey'],
    ['a private key file that does not exist', { channels: { wechatpay: { ...wechatpay, privateKey: '/nonexistent/key.pem' } } }, {}, 'channels.wechatpay.privateKey'],
    ['an APIv3 key of the wrong length', { channels: { wechatpay: { ...wechatpay, apiV3Key: 'short' } } }, {}, 'channels.wechatpay.apiV3Key'],
    ['a notify URL with a query string', { channels: { wechatpay: { ...wechatpay, notifyUrl: 'https://x.example/n?a=1' } } }, {}, 'channels.wechatpay.notifyUrl'],
    ['an unsupported channel', { channels: { paypal: {} } }, {}, 'channels.paypal'],
  ];
  it.each(bad)('stops on %s, naming the key', (_name, file, env, key) => {
    let error: unknown;
    try {
      resolveConfig(file, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect((error as ConfigError).message).toContain(key);
  });
});
