// In sandbox mode Paycenter is a merchant of its own simulated channels: it makes each channel's
// merchant identity once (key pairs, ids), keeps them, and registers them with the sandbox through
// the sandbox's public merchant APIs, exactly as any other client would. The same code serves the
// in-process sandbox (`npm start`) and a standalone one (chaos, bench).
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';

interface RsaPair {
  privateKey: string;
  publicKey: string;
}

export interface SandboxMerchants {
  wechatpay: RsaPair & { mchId: string; appId: string; certSerialNo: string; apiV3Key: string };
  alipay: RsaPair & { appId: string; sellerId: string };
  unionpay: RsaPair & { merId: string };
}

export type SandboxChannelName = keyof SandboxMerchants;
export const SANDBOX_CHANNELS: readonly SandboxChannelName[] = ['wechatpay', 'alipay', 'unionpay'];

function rsaPair(): RsaPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const digits = (n: number): string => Array.from({ length: n }, () => randomInt(10)).join('');

/** Makes a new identity for each simulated channel, shaped as that channel issues them. */
const GENERATE: { [K in SandboxChannelName]: () => SandboxMerchants[K] } = {
  wechatpay: () => ({
    ...rsaPair(),
    mchId: String(1_900_000_000 + randomBytes(3).readUIntBE(0, 3)),
    appId: `wx${randomBytes(8).toString('hex')}`,
    certSerialNo: randomBytes(20).toString('hex').toUpperCase(),
    // 32 ASCII bytes, as WeChat Pay's APIv3 key is.
    apiV3Key: randomBytes(16).toString('hex'),
  }),
  alipay: () => ({ ...rsaPair(), appId: `2021${digits(12)}`, sellerId: `2088${digits(12)}` }),
  unionpay: () => ({ ...rsaPair(), merId: `777${digits(12)}` }),
};

/** A new identity for one simulated channel (an RSA key pair is slow: make only those needed). */
export function generateSandboxMerchant<K extends SandboxChannelName>(name: K): SandboxMerchants[K] {
  return GENERATE[name]();
}

/** New identities for every simulated channel. */
export function generateSandboxMerchants(): SandboxMerchants {
  return { wechatpay: GENERATE.wechatpay(), alipay: GENERATE.alipay(), unionpay: GENERATE.unionpay() };
}

interface SandboxUrls {
  /** Where Paycenter reaches the sandbox. */
  sandbox: string;
  /** Where the sandbox reaches Paycenter's notify routes (and the buyer's browser returns). */
  paycenter: string;
}

/**
 * One JSON object per channel: what the sandbox answered each registration (the keys and
 * certificates the bank issued), or a channel's unparsed config section.
 */
export type PerSandboxChannel = Partial<Record<SandboxChannelName, Record<string, unknown>>>;

/** Registers each merchant in `merchants` with the sandbox at `sandboxUrl`, through its public merchant API. */
export async function registerSandboxMerchants(sandboxUrl: string, merchants: Partial<SandboxMerchants>): Promise<PerSandboxChannel> {
  const register = (path: string, payload: Record<string, unknown>) => registerOne(sandboxUrl, path, payload);
  const { wechatpay: w, alipay: a, unionpay: u } = merchants;
  const registered: PerSandboxChannel = {};
  if (w) {
    registered.wechatpay = await register('/sandbox/wechatpay/merchants', {
      mchId: w.mchId,
      appId: w.appId,
      merchantPublicKey: w.publicKey,
      merchantCertSerialNo: w.certSerialNo,
      apiV3Key: w.apiV3Key,
    });
  }
  if (a) registered.alipay = await register('/sandbox/alipay/merchants', { appId: a.appId, appPublicKey: a.publicKey, sellerId: a.sellerId });
  if (u) registered.unionpay = await register('/sandbox/unionpay/merchants', { merId: u.merId, merchantPublicKey: u.publicKey });
  return registered;
}

/**
 * The `channels` section of the config for the registered channels, pointing at the sandbox
 * (unparsed: the config readers check it like any hand-written one).
 */
export function sandboxChannelsSection(
  merchants: Partial<SandboxMerchants>,
  registered: PerSandboxChannel,
  urls: SandboxUrls,
): PerSandboxChannel {
  const { wechatpay: w, alipay: a, unionpay: u } = merchants;
  return {
    ...(w && registered.wechatpay && {
      wechatpay: {
        mchId: w.mchId,
        appId: w.appId,
        apiBaseUrl: `${urls.sandbox}/sandbox/wechatpay`,
        privateKey: w.privateKey,
        certSerialNo: w.certSerialNo,
        apiV3Key: w.apiV3Key,
        platformPublicKey: registered.wechatpay.platformPublicKey,
        platformPublicKeyId: registered.wechatpay.platformPublicKeyId,
        notifyUrl: `${urls.paycenter}/notify/wechatpay`,
      },
    }),
    ...(a && registered.alipay && {
      alipay: {
        appId: a.appId,
        sellerId: a.sellerId,
        gatewayUrl: `${urls.sandbox}/sandbox/alipay/gateway.do`,
        privateKey: a.privateKey,
        alipayPublicKey: registered.alipay.alipayPublicKey,
        notifyUrl: `${urls.paycenter}/notify/alipay`,
        returnUrl: `${urls.paycenter}/return/alipay`,
        expiryGraceMs: SANDBOX_EXPIRY_GRACE_MS,
      },
    }),
    ...(u && registered.unionpay && {
      unionpay: {
        merId: u.merId,
        gatewayUrl: `${urls.sandbox}/sandbox/unionpay`,
        privateKey: u.privateKey,
        signCert: registered.unionpay.signCert,
        rootCert: registered.unionpay.rootCert,
        middleCert: registered.unionpay.middleCert,
        backUrl: `${urls.paycenter}/notify/unionpay`,
        frontUrl: `${urls.paycenter}/return/unionpay`,
        expiryGraceMs: SANDBOX_EXPIRY_GRACE_MS,
      },
    }),
  };
}

/** The sandbox shares Paycenter's clock, so a second covers a payment in flight at the expiry. */
const SANDBOX_EXPIRY_GRACE_MS = 1_000;

async function registerOne(sandboxUrl: string, path: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(sandboxUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`sandbox merchant registration at ${path} failed: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
