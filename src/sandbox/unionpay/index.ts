// The UnionPay online gateway (ACP 5.1.0, B2C bizType 000201) as the sandbox simulates it
// (channels.md §3): merchant registration with certificates issued by the sandbox's CA, the front
// consume with its cashier page, queryTrans.do, refunds, the daily file, and backUrl notifications.
import type { SimulatedChannel } from '../channel.ts';
import { channelNotifier } from '../notifier.ts';
import { REFUND_FINISH_DELAY_MS } from '../refund-ledger.ts';
import { keyLoader } from '../rsa.ts';
import { bankSignerOf, loadOrCreateAuthority } from './bank-signer.ts';
import { createUnionpayControl } from './control.ts';
import { unionpayApiRoutes } from './api-routes.ts';
import { unionpayFrontRoutes } from './front-routes.ts';
import { unionpayMerchantRoutes } from './merchant-routes.ts';
import { MerchantDirectory } from './merchants.ts';
import { UNIONPAY_MIGRATION_SQL, UNIONPAY_SCHEMA } from './migration.ts';
import { UNIONPAY_NOTIFY_TIMEOUT_MS, UNIONPAY_RETRY_DELAYS_MS, sendUnionpayNotification } from './notification-send.ts';
import type { PaymentDeps } from './payment.ts';
import { RefundFinisher, type RefundDeps } from './refunds.ts';

export const unionpaySandbox: SimulatedChannel = {
  name: 'unionpay',
  migrationSql: UNIONPAY_MIGRATION_SQL,

  create(ctx) {
    const { db, log, faults, timeScale, billPlants, refundFailures } = ctx;
    // The chain is read, or made (three RSA keys, about a second), when a UnionPay route first
    // needs it: a sandbox whose tests never touch UnionPay never pays for it.
    const authority = keyLoader(() => loadOrCreateAuthority(db));
    const signer = keyLoader(async () => bankSignerOf(await authority()));
    const merchants = new MerchantDirectory(db, authority);
    const notifier = channelNotifier(ctx, {
      channel: 'unionpay',
      schema: UNIONPAY_SCHEMA,
      retryDelaysMs: UNIONPAY_RETRY_DELAYS_MS,
      notifyTimeoutMs: UNIONPAY_NOTIFY_TIMEOUT_MS,
      send: sendUnionpayNotification,
    });
    const payments: PaymentDeps = { db, log, notifier, signer };
    const refunds: RefundDeps = { ...payments, refundFailures, finishDelayMs: REFUND_FINISH_DELAY_MS * timeScale };
    const finisher = new RefundFinisher(refunds);
    return {
      control: createUnionpayControl(payments),

      async register(app) {
        await app.register(unionpayMerchantRoutes({ merchants, authority }));
        await app.register(unionpayFrontRoutes({ log, merchants, payments }));
        await app.register(unionpayApiRoutes({ db, log, merchants, signer, faults, billPlants, refunds }));
      },

      async start() {
        await notifier.start();
        await finisher.start();
        log.info({ notifyTimeoutMs: notifier.notifyTimeoutMs }, 'sandbox unionpay started');
      },

      async stop() {
        // Finishing a refund enqueues a notification: the finisher stops first.
        await finisher.stop();
        await notifier.stop();
      },
    };
  },
};
