// What operators see of a notification: signatures, card and identity data and ciphertext cut
// down, everything else readable, for each channel's body format.
import { describe, expect, it } from 'vitest';
import { maskBody, maskField, maskHeaders } from '../../src/domain/masking.ts';

describe('maskField', () => {
  it.each([
    ['Wechatpay-Signature', 'ZGVhZGJlZWZzaWduYXR1cmU=', 'ZGVhZG…(masked)'],
    ['sign', 'Rk9SR0VEU0lHTkFUVVJF', 'Rk9SR0…(masked)'],
    ['signature', 'c2lnbmF0dXJlIHZhbHVl', 'c2lnbm…(masked)'],
    ['signPubKeyCert', '-----BEGIN CERTIFICATE-----\nMIID', '-----B…(masked)'],
    ['accNo', '6216261000000000018', '****0018'],
    ['customerInfo', 'e3Bob25lTm89MTM4MDAwMDAwMDB9', '****MDB9'],
    ['buyer_logon_id', '159****1234', '****1234'],
    ['buyer_id', '2088102177846880', '****6880'],
    ['openid', 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', '****eS6o'],
    ['phoneNo', '138', '****'],
    ['out_trade_no', 'pc0123456789', 'pc0123456789'],
    ['total_amount', '19.99', '19.99'],
  ])('%s %s → %s', (name, value, shown) => {
    expect(maskField(name, value)).toBe(shown);
  });

  it('shortens a ciphertext to its start and size, and leaves a short one alone', () => {
    const ciphertext = 'A'.repeat(400);
    expect(maskField('ciphertext', ciphertext)).toBe(`${'A'.repeat(16)}…(400 characters)`);
    expect(maskField('ciphertext', 'short')).toBe('short');
  });
});

describe('maskHeaders', () => {
  it('masks the WeChat signature header, keeps serial, nonce and timestamp, joins repeated values', () => {
    expect(
      maskHeaders({
        'wechatpay-signature': 'c2lnbmF0dXJlLXZhbHVl',
        'wechatpay-serial': 'PUB_KEY_ID_0114232134912410000000000000',
        'wechatpay-timestamp': '1700000000',
        'x-many': ['a', 'b'],
      }),
    ).toEqual([
      ['wechatpay-signature', 'c2lnbm…(masked)'],
      ['wechatpay-serial', 'PUB_KEY_ID_0114232134912410000000000000'],
      ['wechatpay-timestamp', '1700000000'],
      ['x-many', 'a, b'],
    ]);
  });
});

describe('maskBody', () => {
  it('WeChat (JSON): indented, the nested ciphertext shortened, the rest as sent', () => {
    const body = JSON.stringify({
      id: 'EV-2018022511223320873',
      event_type: 'TRANSACTION.SUCCESS',
      resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: 'x'.repeat(300), nonce: 'fdasflkja484w', associated_data: 'transaction' },
    });
    const masked = maskBody(body);
    expect(masked.format).toBe('json');
    expect(JSON.parse(masked.text)).toEqual({
      id: 'EV-2018022511223320873',
      event_type: 'TRANSACTION.SUCCESS',
      resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: `${'x'.repeat(16)}…(300 characters)`, nonce: 'fdasflkja484w', associated_data: 'transaction' },
    });
    expect(masked.text.split('\n').length).toBeGreaterThan(5);
  });

  it('JSON: personal fields are masked at any depth, in arrays too', () => {
    const masked = maskBody(JSON.stringify({ payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }, list: [{ buyer_id: '2088102177846880' }], n: 3 }));
    expect(JSON.parse(masked.text)).toEqual({ payer: { openid: '****eS6o' }, list: [{ buyer_id: '****6880' }], n: 3 });
  });

  it('Alipay (form): one decoded field a line, sign and buyer data masked', () => {
    const form = new URLSearchParams({
      notify_id: 'ac05099524730693a8b330c5ecf72da9786',
      out_trade_no: 'pc0123',
      buyer_id: '2088102177846880',
      buyer_logon_id: 'abc***@alipay.com',
      subject: 'Tea & cups',
      sign_type: 'RSA2',
      sign: 'QmFzZTY0U2lnbmF0dXJlVmFsdWU=',
    }).toString();
    expect(maskBody(form)).toEqual({
      format: 'form',
      text: [
        'notify_id=ac05099524730693a8b330c5ecf72da9786',
        'out_trade_no=pc0123',
        'buyer_id=****6880',
        'buyer_logon_id=****.com',
        'subject=Tea & cups',
        'sign_type=RSA2',
        'sign=QmFzZT…(masked)',
      ].join('\n'),
    });
  });

  it('UnionPay (form): signature, certificate, card number and customer info masked', () => {
    const form = new URLSearchParams({
      orderId: 'pc0123456789',
      accNo: '6216261000000000018',
      customerInfo: 'e3Bob25lTm89MTM4MDAwMDAwMDB9',
      signPubKeyCert: '-----BEGIN CERTIFICATE-----\nMIIEQzCCAyugAwIBAgIFEBJJZVgwDQYJ',
      signature: 'VGhlU2lnbmF0dXJlT2ZUaGVCYW5r',
    }).toString();
    expect(maskBody(form).text).toBe(
      [
        'orderId=pc0123456789',
        'accNo=****0018',
        'customerInfo=****MDB9',
        'signPubKeyCert=-----B…(masked)',
        'signature=VGhlU2…(masked)',
      ].join('\n'),
    );
  });

  it.each([
    ['broken JSON', '{"id": 1', 'text'],
    ['plain text', 'hello there', 'text'],
    ['XML', '<xml><sign>abc</sign></xml>', 'text'],
    ['empty', '', 'text'],
  ])('%s is shown as received', (_name, body, format) => {
    expect(maskBody(body)).toEqual({ format, text: body });
  });
});
