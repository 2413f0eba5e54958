import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AUTH_SCHEME,
  buildAuthorization,
  buildSignMessage,
  newNonce,
  signMessage,
  unixSeconds,
} from '../../src/channels/wechatpay/sign.ts';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('wechatpay request signing message', () => {
  it('GET: five lines, the body line empty, the last newline kept', () => {
    const message = buildSignMessage(
      'GET',
      '/v3/pay/transactions/out-trade-no/ORD20240101001?mchid=1230000109',
      '1554208460',
      '593BEC0C930BF1AFEB40B4A08C8FB242',
      '',
    );
    expect(message).toBe(
      'GET\n/v3/pay/transactions/out-trade-no/ORD20240101001?mchid=1230000109\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n',
    );
    expect(message.split('\n')).toHaveLength(6);
  });

  it('POST: the exact body string is the fifth line', () => {
    const body = '{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"商品"}';
    const message = buildSignMessage('POST', '/v3/pay/transactions/native', '1554208460', 'N0NCE', body);
    expect(message).toBe(`POST\n/v3/pay/transactions/native\n1554208460\nN0NCE\n${body}\n`);
  });

  it('bodiless POST still has five lines', () => {
    const message = buildSignMessage('POST', '/v3/x/close', '1', 'n', '');
    expect(message).toBe('POST\n/v3/x/close\n1\nn\n\n');
    expect(message.endsWith('\n\n')).toBe(true);
  });

  it('keeps a path prefix of the base URL in the canonical URL it is given', () => {
    const message = buildSignMessage('GET', '/sandbox/wechatpay/v3/pay/transactions/out-trade-no/A1?mchid=1', '1', 'n', '');
    expect(message.split('\n')[1]).toBe('/sandbox/wechatpay/v3/pay/transactions/out-trade-no/A1?mchid=1');
  });
});

describe('wechatpay Authorization header', () => {
  it('has the scheme and the five quoted pairs', () => {
    const header = buildAuthorization({
      mchId: '1230000109',
      nonce: '593BEC0C930BF1AFEB40B4A08C8FB242',
      signature: 'c2lnbmF0dXJl+/==',
      timestampS: '1554208460',
      serialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
    });
    expect(header).toBe(
      'WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",' +
        'signature="c2lnbmF0dXJl+/==",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"',
    );
    const [scheme, params] = [header.slice(0, AUTH_SCHEME.length), header.slice(AUTH_SCHEME.length + 1)];
    expect(scheme).toBe('WECHATPAY2-SHA256-RSA2048');
    const pairs = Object.fromEntries([...params.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(pairs).sort()).toEqual(['mchid', 'nonce_str', 'serial_no', 'signature', 'timestamp']);
  });
});

describe('wechatpay signature', () => {
  const message = buildSignMessage('POST', '/v3/pay/transactions/native', '1554208460', 'n', '{"description":"测试"}');

  it('verifies with the matching public key (SHA256withRSA over the UTF-8 message)', async () => {
    const signature = await signMessage(merchant.privateKey, message);
    expect(verify('sha256', Buffer.from(message, 'utf8'), merchant.publicKey, Buffer.from(signature, 'base64'))).toBe(true);
  });

  it('does not verify with another key or another message', async () => {
    const signature = Buffer.from(await signMessage(merchant.privateKey, message), 'base64');
    expect(verify('sha256', Buffer.from(message), other.publicKey, signature)).toBe(false);
    expect(verify('sha256', Buffer.from(message.replace('测试', '测验')), merchant.publicKey, signature)).toBe(false);
  });

  it('nonces are 32 upper-case hex characters and differ', () => {
    const a = newNonce();
    expect(a).toMatch(/^[0-9A-F]{32}$/);
    expect(newNonce()).not.toBe(a);
  });

  it('timestamps are whole unix seconds', () => {
    expect(unixSeconds(new Date(1554208460999))).toBe('1554208460');
  });
});
