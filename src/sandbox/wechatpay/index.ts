// WeChat Pay API v3 as the sandbox simulates it (channels.md §1): Native orders, query and close,
// refunds and trade bills under /sandbox/wechatpay/v3, merchant registration, the buyer's payment,
// and the payment and refund notifications.
import { channelNotifier } from '../notifier.ts';
import { keyLoader } from '../rsa.ts';
import type { SimulatedChannel } from '../channel.ts';
import { WECHATPAY_API_PREFIX, wechatpayApiRoutes } from './api-routes.ts';
import { createWechatpayControl } from './control.ts';
import { wechatpayMerchantRoutes } from './merchant-routes.ts';
import { MerchantDirectory } from './merchants.ts';
import { WECHATPAY_NOTIFY_TIMEOUT_MS, WECHATPAY_RETRY_DELAYS_MS, wechatpayNotificationSender } from './notification-send.ts';
import { loadOrCreatePlatformKey } from './platform-key.ts';
import { REFUNDS_MIGRATION_SQL } from './refund-store.ts';
import { WECHATPAY_MIGRATION_SQL, WECHATPAY_SCHEMA } from './store.ts';

export const wechatpaySandbox: SimulatedChannel = {
  name: 'wechatpay',
  migrationSql: WECHATPAY_MIGRATION_SQL + REFUNDS_MIGRATION_SQL,

  create(ctx) {
    const { db, log, faults, timeScale, billPlants, refundFailures } = ctx;
    const platformKey = keyLoader(() => loadOrCreatePlatformKey(db));
    const merchants = new MerchantDirectory(db);
    const notifier = channelNotifier(ctx, {
      channel: 'wechatpay',
      schema: WECHATPAY_SCHEMA,
      retryDelaysMs: WECHATPAY_RETRY_DELAYS_MS,
      notifyTimeoutMs: WECHATPAY_NOTIFY_TIMEOUT_MS,
      send: wechatpayNotificationSender(platformKey),
    });
    return {
      control: createWechatpayControl({ db, log, merchants, notifier }),

      async register(app) {
        const signer = await platformKey();
        await app.register(
          wechatpayApiRoutes({ db, log, merchants, signer, faults, notifier, timeScale, billPlants, refundFailures }),
          { prefix: WECHATPAY_API_PREFIX },
        );
        await app.register(wechatpayMerchantRoutes({ merchants, platformKey: signer }));
      },

      async start() {
        const { keyId } = await platformKey();
        await notifier.start();
        log.info({ notifyTimeoutMs: notifier.notifyTimeoutMs, platformPublicKeyId: keyId }, 'sandbox wechatpay started');
      },

      stop: () => notifier.stop(),
    };
  },
};
