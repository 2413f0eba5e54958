// Alipay's open platform as the sandbox simulates it (channels.md §2): apps with their keys,
// gateway.do with precreate, page.pay, query, close, refund, refund query and the bill URL, the
// buyer scanning and paying, and the form-encoded notifications acknowledged by `success`.
import { BillDownloads } from '../bill-downloads.ts';
import type { SimulatedChannel } from '../channel.ts';
import { channelNotifier } from '../notifier.ts';
import { keyLoader } from '../rsa.ts';
import { loadOrCreateAlipayKey } from './alipay-key.ts';
import { AppDirectory } from './apps.ts';
import { billApi, billDownloadRoutes, type AlipayBillDownloads } from './bill-api.ts';
import { Buyer } from './buyer.ts';
import { cashierRoutes } from './cashier.ts';
import { createAlipayControl } from './control.ts';
import { alipayControlRoutes } from './control-routes.ts';
import { alipayGatewayRoutes } from './gateway-routes.ts';
import { alipayMerchantRoutes } from './merchant-routes.ts';
import { ALIPAY_NOTIFY_TIMEOUT_MS, ALIPAY_RETRY_DELAYS_MS, sendAlipayNotification } from './notification.ts';
import { refundApi } from './refund-api.ts';
import { ALIPAY_REFUND_MIGRATION_SQL } from './refund-store.ts';
import { ALIPAY_MIGRATION_SQL, ALIPAY_SCHEMA } from './store.ts';
import { tradeApi } from './trade-api.ts';

export const alipaySandbox: SimulatedChannel = {
  name: 'alipay',
  migrationSql: ALIPAY_MIGRATION_SQL + ALIPAY_REFUND_MIGRATION_SQL,

  create(ctx) {
    const { db, log, faults, billPlants, refundFailures } = ctx;
    const alipayKey = keyLoader(() => loadOrCreateAlipayKey(db));
    const notifier = channelNotifier(ctx, {
      channel: 'alipay',
      schema: ALIPAY_SCHEMA,
      retryDelaysMs: ALIPAY_RETRY_DELAYS_MS,
      notifyTimeoutMs: ALIPAY_NOTIFY_TIMEOUT_MS,
      send: sendAlipayNotification,
    });
    const buyer = new Buyer({ db, log, notifier, alipayKey });
    const apps = new AppDirectory(db);
    const downloads: AlipayBillDownloads = new BillDownloads();
    return {
      control: createAlipayControl({ db, buyer }),

      async register(app) {
        await app.register(
          alipayGatewayRoutes({
            db,
            log,
            apps,
            buyer,
            alipayKey,
            api: tradeApi({ db, faults }),
            refunds: refundApi({ pool: db, log, faults, notifier, alipayKey, refundFailures }),
            bills: billApi({ db, faults, billPlants, downloads }),
          }),
        );
        await app.register(billDownloadRoutes(downloads));
        await app.register(cashierRoutes({ db, buyer, alipayKey }));
        await app.register(alipayMerchantRoutes({ apps, alipayKey }));
        await app.register(alipayControlRoutes({ db, buyer }));
      },

      async start() {
        await notifier.start();
        log.info({ notifyTimeoutMs: notifier.notifyTimeoutMs }, 'sandbox alipay started');
      },

      stop: () => notifier.stop(),
    };
  },
};
