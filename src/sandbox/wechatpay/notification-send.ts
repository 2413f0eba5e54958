// One delivery of a WeChat Pay notification (channels.md §1.3, §1.5): the stored JSON envelope,
// signed with the platform key at send time; 200 or 204 acknowledges. The schedule, leases and
// faults are the shared Notifier's (../notifier.ts).
import { postNotification, type NotifierOptions } from '../notifier.ts';
import { AUTHORIZATION_SCHEME, platformSignatureHeaders, signtestProbeHeaders, type PlatformSigner } from './signing.ts';
import { newHexToken } from './wire-format.ts';

/** WeChat's retry delays after each failed attempt (§1.5), at timeScale 1: 15 retries over 24 h 4 min. */
export const WECHATPAY_RETRY_DELAYS_MS: readonly number[] = [
  15_000, 15_000, 30_000, 180_000, 600_000, 1_200_000, 1_800_000, 1_800_000, 1_800_000, 3_600_000,
  10_800_000, 10_800_000, 10_800_000, 21_600_000, 21_600_000,
];
/** WeChat's limit for an answer (§1.5). */
export const WECHATPAY_NOTIFY_TIMEOUT_MS = 5_000;

/** A probe carries a WECHATPAY/SIGNTEST/ signature, which a correct receiver refuses (§1.3). */
export function wechatpayNotificationSender(signer: () => Promise<PlatformSigner>): NotifierOptions['send'] {
  return async (note, { probe, timeoutMs }) => {
    const platformKey = await signer();
    const nowMs = Date.now();
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': 'paycenter-sandbox-wechatpay',
      'Request-ID': newHexToken(),
      'Wechatpay-Signature-Type': AUTHORIZATION_SCHEME,
      ...(probe ? signtestProbeHeaders(platformKey, nowMs) : await platformSignatureHeaders(platformKey, note.body, nowMs)),
    };
    return postNotification(note.notifyUrl, { headers, body: note.body, timeoutMs }, (answer) => ({
      acknowledged: answer.status === 200 || answer.status === 204,
      description: `HTTP ${answer.status}`,
    }));
  };
}
