// Forged notifications for every simulated channel, signed with the bank's own keys (read from
// the sandbox's tables) or with a stranger's, so each check G5 relies on is probed: signature,
// certificate chain, timestamp, merchant, amount.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import type { SandboxMerchants } from '../runtime/sandbox-merchants.ts';
import { forgeNotification, readForgeKeys } from './forge-wechatpay.ts';
import { forgeAlipayNotification, readAlipayForgeKeys } from './forge-alipay.ts';
import { forgeUnionpayNotification, readUnionpayForgeKeys, strangerCertificate } from './forge-unionpay.ts';
import type { Rng } from './random.ts';

export interface Forgery {
  kind: string;
  headers: Record<string, string>;
  body: string;
}

type Forge = (trade: { outTradeNo: string; amount: number }) => Omit<Forgery, 'kind'>;

export interface Forgers {
  /** A forgery of a random kind for this channel's trade. */
  forge(rng: Rng, channel: string, trade: { outTradeNo: string; amount: number }): Forgery;
}

export async function loadForgers(q: Queryable, merchants: SandboxMerchants): Promise<Forgers> {
  // Made once: key generation is too slow to do per forgery.
  const strangerKey: KeyObject = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const stranger = strangerCertificate();
  const wechatpay = await readForgeKeys(q, merchants.wechatpay);
  const alipay = await readAlipayForgeKeys(q, merchants.alipay);
  const unionpay = await readUnionpayForgeKeys(q, merchants.unionpay);
  const kinds: Record<string, [string, Forge][]> = {
    wechatpay: [
      ['bad_signature', (t) => forgeNotification(wechatpay, { ...t, wrongSigningKey: strangerKey })],
      ['wrong_amount', (t) => forgeNotification(wechatpay, { ...t, amount: t.amount + 1 })],
      ['stale_timestamp', (t) => forgeNotification(wechatpay, { ...t, timestampSeconds: Math.floor(Date.now() / 1000) - 3_600 })],
    ],
    alipay: [
      ['bad_signature', (t) => forgeAlipayNotification(alipay, { ...t, wrongSigningKey: strangerKey })],
      ['wrong_amount', (t) => forgeAlipayNotification(alipay, { ...t, amount: t.amount + 1 })],
      ['wrong_seller', (t) => forgeAlipayNotification(alipay, { ...t, sellerId: '2088999999999999' })],
    ],
    unionpay: [
      ['bad_signature', (t) => forgeUnionpayNotification(unionpay, { ...t, wrongSigningKey: strangerKey })],
      [
        'bad_certificate',
        (t) => forgeUnionpayNotification(unionpay, { ...t, wrongCertPem: stranger.certPem, wrongSigningKey: stranger.privateKey }),
      ],
      ['wrong_amount', (t) => forgeUnionpayNotification(unionpay, { ...t, amount: t.amount + 1 })],
    ],
  };
  return {
    forge(rng, channel, trade) {
      const [kind, forge] = rng.pick(kinds[channel]!);
      return { ...forge(trade), kind };
    },
  };
}
