import { X509Certificate, createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  certIdOf,
  outgoingFields,
  signFields,
  signingDigest,
  signingString,
  verifyFieldsSignature,
} from '../../src/channels/unionpay/sign.ts';
import { parseFormFields } from '../../src/channels/notification.ts';
import { encodeForm, parseResponseFields } from '../../src/channels/unionpay/wire.ts';
import { issue, newKeyPem } from '../helpers/unionpay-pki.ts';

/** The constructed example of channels.md §3.2, exactly. */
const BRIEF_EXAMPLE =
  'accessType=0&backUrl=https://m.example.com/up/notify&bizType=000201&certId=69629715588&channelType=07&currencyCode=156&encoding=UTF-8&frontUrl=https://m.example.com/up/return&merId=777290058110048&orderId=ORD20240101001&payTimeout=20240101121500&signMethod=01&txnAmt=8888&txnSubType=01&txnTime=20240101120000&txnType=01&version=5.1.0';

/** The example's fields in the order a consume lists them, not sorted. */
const exampleFields = (): Array<[string, string]> => [
  ['version', '5.1.0'],
  ['encoding', 'UTF-8'],
  ['signMethod', '01'],
  ['txnType', '01'],
  ['txnSubType', '01'],
  ['bizType', '000201'],
  ['channelType', '07'],
  ['accessType', '0'],
  ['merId', '777290058110048'],
  ['orderId', 'ORD20240101001'],
  ['txnTime', '20240101120000'],
  ['txnAmt', '8888'],
  ['currencyCode', '156'],
  ['frontUrl', 'https://m.example.com/up/return'],
  ['backUrl', 'https://m.example.com/up/notify'],
  ['payTimeout', '20240101121500'],
  ['certId', '69629715588'],
];

const keyPem = newKeyPem();
const privateKey = createPrivateKey(keyPem);
const publicKey = createPublicKey(privateKey);

describe('unionpay signing string (§3.2)', () => {
  it('sorts the fields by key in ASCII order and joins raw k=v with &', () => {
    expect(signingString(new Map(exampleFields()))).toBe(BRIEF_EXAMPLE);
  });

  it('leaves out signature and blank fields, wherever they sit', () => {
    const fields = new Map(exampleFields());
    fields.set('signature', 'c2lnbmF0dXJl');
    fields.set('reqReserved', '');
    fields.set('riskRateInfo', '   ');
    expect(signingString(fields)).toBe(BRIEF_EXAMPLE);
  });

  it('sorts upper case before lower case (ASCII, not locale order)', () => {
    expect(signingString(new Map([['b', '1'], ['B', '2'], ['a', '3'], ['_', '4']]))).toBe('B=2&_=4&a=3&b=1');
  });

  it('uses values raw: no URL encoding, embedded & and = kept', () => {
    expect(signingString(new Map([['reqReserved', '{a=1&b=2}'], ['frontUrl', 'https://x.example/r?q=1 2']]))).toBe(
      'frontUrl=https://x.example/r?q=1 2&reqReserved={a=1&b=2}',
    );
  });

  it('outgoing fields drop blank values and trim the rest, so what is sent is what is signed', () => {
    const sent = outgoingFields([['a', ' 1 '], ['b', ''], ['c', '  '], ['d', '4']]);
    expect([...sent]).toEqual([['a', '1'], ['d', '4']]);
  });
});

describe('unionpay signature (§3.2)', () => {
  it('is SHA256withRSA over the lowercase hex SHA-256 of the signing string', async () => {
    const fields = new Map(exampleFields());
    const digest = signingDigest(fields);
    expect(digest).toBe(createHash('sha256').update(BRIEF_EXAMPLE, 'utf8').digest('hex'));
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const signature = await signFields(privateKey, fields);
    expect(verify('sha256', Buffer.from(digest, 'ascii'), publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    // Not a signature over the string itself (one hash only).
    expect(verify('sha256', Buffer.from(BRIEF_EXAMPLE), publicKey, Buffer.from(signature, 'base64'))).toBe(false);
  });

  it('is deterministic: the same fields give the same signature', async () => {
    const fields = new Map(exampleFields());
    expect(await signFields(privateKey, fields)).toBe(await signFields(privateKey, new Map(exampleFields().reverse())));
  });

  it('hashes UTF-8 bytes of non-ASCII values', () => {
    const fields = new Map([['respMsg', '成功[0000000]']]);
    expect(signingDigest(fields)).toBe(createHash('sha256').update(Buffer.from('respMsg=成功[0000000]', 'utf8')).digest('hex'));
  });

  it('verifies a good signature, and refuses a changed field, a missing or garbage signature', async () => {
    const fields = new Map(exampleFields());
    fields.set('signature', await signFields(privateKey, fields));
    expect(verifyFieldsSignature(publicKey, fields)).toBe(true);
    expect(verifyFieldsSignature(publicKey, new Map([...fields, ['txnAmt', '8889']]))).toBe(false);
    expect(verifyFieldsSignature(publicKey, new Map([...fields, ['signature', '']]))).toBe(false);
    expect(verifyFieldsSignature(publicKey, new Map([...fields, ['signature', '!!!not base64']]))).toBe(false);
    const other = createPublicKey(createPrivateKey(newKeyPem()));
    expect(verifyFieldsSignature(other, fields)).toBe(false);
  });

  it('still verifies when a blank field was added after signing (blank fields are not signed)', async () => {
    const fields = new Map(exampleFields());
    fields.set('signature', await signFields(privateKey, fields));
    expect(verifyFieldsSignature(publicKey, new Map([...fields, ['reqReserved', '']]))).toBe(true);
  });

  it('certId is the signing certificate serial number in decimal', () => {
    const cert = new X509Certificate(issue({ cn: 'merchant', serial: '1036412484' }).certPem);
    expect(certIdOf(cert)).toBe('69629715588');
  });
});

describe('unionpay synchronous answer parser (nesting-aware, §3.1)', () => {
  it('splits plain k=v&k=v without decoding anything', () => {
    expect(parseResponseFields('respCode=00&respMsg=成功&txnAmt=8888&x=a+b%20c')).toEqual(
      new Map([['respCode', '00'], ['respMsg', '成功'], ['txnAmt', '8888'], ['x', 'a+b%20c']]),
    );
  });

  it('keeps & and = inside {…} as part of the value', () => {
    const fields = parseResponseFields('reqReserved={a=1&b=2}&respCode=00');
    expect(fields).toEqual(new Map([['reqReserved', '{a=1&b=2}'], ['respCode', '00']]));
  });

  it('keeps & and = inside […] as part of the value', () => {
    const fields = parseResponseFields('accSplitData=[{x=1&y=2},{x=3&y=4}]&orderId=ORD1');
    expect(fields?.get('accSplitData')).toBe('[{x=1&y=2},{x=3&y=4}]');
    expect(fields?.get('orderId')).toBe('ORD1');
  });

  it('counts nested brackets, so an inner closer does not end the value', () => {
    expect(parseResponseFields('a={b={c=1}&d=2}&e=3')).toEqual(new Map([['a', '{b={c=1}&d=2}'], ['e', '3']]));
  });

  it('treats a closer that matches no open bracket as an ordinary character', () => {
    expect(parseResponseFields('a=x}y&b={p]&q}&c=1')).toEqual(new Map([['a', 'x}y'], ['b', '{p]&q}'], ['c', '1']]));
  });

  it('splits only on the first = of a value', () => {
    expect(parseResponseFields('a=b=c&d=')).toEqual(new Map([['a', 'b=c'], ['d', '']]));
  });

  it('keeps a PEM certificate with \\r\\n intact', () => {
    const pem = '-----BEGIN CERTIFICATE-----\r\nMIIB+g==\r\n-----END CERTIFICATE-----';
    expect(parseResponseFields(`signPubKeyCert=${pem}&respCode=00`)?.get('signPubKeyCert')).toBe(pem);
  });

  it('reads a segment without = as a key with an empty value (as ACP does)', () => {
    expect(parseResponseFields('a&b=1')).toEqual(new Map([['a', ''], ['b', '1']]));
  });

  it.each([
    ['an empty key', '=1&b=2'],
    ['a trailing &', 'a=1&'],
    ['a repeated key', 'respCode=00&respCode=34'],
  ])('refuses %s', (_label, text) => {
    expect(parseResponseFields(text)).toBeUndefined();
  });

  it('an unclosed bracket swallows the rest into its value', () => {
    expect(parseResponseFields('a={x&b=1')).toEqual(new Map([['a', '{x&b=1']]));
  });
});

describe('unionpay forms (requests, notifications)', () => {
  it('round-trips values with &, =, spaces, + and Chinese through URL encoding', () => {
    const fields = new Map([['reqReserved', '{a=1&b=2}'], ['respMsg', 'Success! 成功 1+1'], ['pem', 'a\r\nb']]);
    expect(parseFormFields(encodeForm(fields))).toEqual(fields);
  });

  it('refuses a repeated key', () => {
    expect(parseFormFields('respCode=00&respCode=01')).toBeUndefined();
  });
});
