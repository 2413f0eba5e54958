// `paycenter <command>`: serve | sandbox | migrate | bench | chaos | reconcile.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';

const USAGE = `Usage: paycenter <command> [options]

Commands:
  serve                  Start Paycenter (API, job runner and, unless real channels are configured, the sandbox).
                         Without DATABASE_URL it runs embedded PostgreSQL in PAYCENTER_DATA_DIR (./.paycenter).
      --role all|api     api: HTTP only, no job runner (run another process with all). Default all.
  sandbox                Run the sandbox (WeChat Pay, Alipay, UnionPay) alone.
      --port N           Port (default 8090). Uses DATABASE_URL or embedded PostgreSQL in ./.paycenter-sandbox.
  migrate                Apply database migrations to DATABASE_URL and exit.
  bench                  Measure order submissions and whole payment flows against the raw-SQL floor.
      --orders N --flows N --concurrency N
  chaos                  Run the sandbox, N Paycenter processes and a business receiver under injected faults,
                         then check G1–G6 against the databases. Exit status 1 on any violation.
      --orders N         Logical purchases (default 1000).
      --instances N      Paycenter processes (default 2).
      --faults LIST      Comma-separated: notifications,channel,receiver,kill,redis,postgres; all (default) or none.
      --redis            Run a Redis of its own for the duplicate guard (and stop it now and then).
      --seed N           Replays the same workload and fault choices (default: random, printed).
      --concurrency N    Shoppers at once (default 64).
      --quiet-timeout S  Seconds to wait for the system to go quiet after the faults heal (default 240).
      --json             Print the report as JSON on stdout.
      Uses DATABASE_URL, or embedded PostgreSQL in a temporary directory.
  reconcile              Compare one channel's bill of one day with Paycenter's records, act on the differences
                         and print the report. Exit status 0: none, 1: differences found, 2: could not reconcile.
      --channel NAME     wechatpay, alipay or unionpay (must be configured).
      --date yyyy-MM-dd  The bill's day in Beijing time (default: yesterday).

Configuration: environment variables or a JSON file named by PAYCENTER_CONFIG (see README).`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      role: { type: 'string', default: 'all' },
      port: { type: 'string' },
      orders: { type: 'string' },
      flows: { type: 'string' },
      concurrency: { type: 'string' },
      instances: { type: 'string' },
      faults: { type: 'string' },
      redis: { type: 'boolean' },
      seed: { type: 'string' },
      'quiet-timeout': { type: 'string' },
      json: { type: 'boolean' },
      channel: { type: 'string' },
      date: { type: 'string' },
    },
    strict: true,
  });
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`paycenter: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  switch (command) {
    case 'serve':
      return serve(config, log, values.role ?? 'all');
    case 'sandbox':
      return sandbox(config, log, values.port);
    case 'migrate':
      return migrateOnly(config);
    case 'bench': {
      const { runBench } = await import('../bench/run.ts');
      return runBench({
        orders: positive('--orders', values.orders, 4000),
        flows: positive('--flows', values.flows, 1000),
        concurrency: positive('--concurrency', values.concurrency, 32),
      });
    }
    case 'chaos': {
      const { runChaos, formatChaosReport, CHAOS_FAULT_KINDS } = await import('./chaos/index.ts');
      const faults = values.faults ?? 'all';
      const kinds = faults === 'all' ? CHAOS_FAULT_KINDS : faults === 'none' ? [] : faults.split(',').map((k) => k.trim());
      const unknown = kinds.filter((k) => !(CHAOS_FAULT_KINDS as string[]).includes(k));
      if (unknown.length > 0) {
        console.error(`paycenter: --faults: unknown ${unknown.join(', ')}; choose from ${CHAOS_FAULT_KINDS.join(', ')}, all or none`);
        process.exit(2);
      }
      const report = await runChaos({
        orders: positive('--orders', values.orders, 1000),
        instances: positive('--instances', values.instances, 2),
        faults: new Set(kinds as typeof CHAOS_FAULT_KINDS),
        seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positive('--seed', values.seed, 1),
        json: values.json === true,
        redis: values.redis === true,
        concurrency: positive('--concurrency', values.concurrency, 64),
        quietTimeoutMs: positive('--quiet-timeout', values['quiet-timeout'], 240) * 1000,
      });
      console.log(values.json ? JSON.stringify(report) : formatChaosReport(report));
      process.exit(report.ok ? 0 : 1);
    }
    case 'reconcile': {
      if (!values.channel) {
        console.error('paycenter: reconcile needs --channel (wechatpay, alipay or unionpay)');
        process.exit(2);
      }
      const { runReconcileCommand } = await import('./runtime/reconcile-command.ts');
      const { beijingDate } = await import('./domain/reconciliation.ts');
      process.exit(await runReconcileCommand(config, log, values.channel, values.date ?? beijingDate(new Date(), 1)));
    }
    default:
      console.error(`paycenter: unknown command ${command}\n\n${USAGE}`);
      process.exit(2);
  }
}

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`paycenter: ${flag} must be a positive whole number`);
    process.exit(2);
  }
  return n;
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits. */
function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

async function serve(config: Config, log: Logger, role: string): Promise<void> {
  if (role !== 'all' && role !== 'api') {
    console.error('paycenter: --role must be all or api');
    process.exit(2);
  }
  const { startPaycenter } = await import('./runtime/start.ts');
  // Handlers go in before start-up so a Ctrl-C during start-up still stops embedded PostgreSQL.
  const starting = startPaycenter(config, log, role);
  onShutdown(log, async () => (await starting).stop());
  const running = await starting;
  const lines = [
    '',
    `Paycenter is running${running.embeddedDatabase ? ` (embedded PostgreSQL, data in ${config.dataDir})` : ''}`,
    `  API        ${running.baseUrl}/v1`,
    `  Docs       ${running.baseUrl}/docs   (OpenAPI: ${running.baseUrl}/openapi.json)`,
    `  Metrics    ${running.baseUrl}/metrics`,
    `  Console    ${running.baseUrl}/console`,
  ];
  if (running.sandbox) lines.push(`  Demo       ${running.baseUrl}/demo   (a shop paying through the sandbox)`);
  if (running.sandbox) {
    lines.push(
      `  Sandbox    ${running.baseUrl}/sandbox/ledger   (simulated channels under ${running.baseUrl}/sandbox/: wechatpay, alipay, unionpay)`,
    );
  }
  lines.push(`  Channels   ${[...running.ctx.channels.keys()].join(', ')}`);
  lines.push(
    running.generatedApiKey
      ? `  API key    ${running.generatedApiKey}   (shown once; stored hashed — keep it, or set PAYCENTER_API_KEY)`
      : config.apiKey
        ? '  API key    from PAYCENTER_API_KEY'
        : '  API key    the one printed at the first start (stored hashed); set PAYCENTER_API_KEY to replace it',
  );
  const admin = running.firstAdmin;
  lines.push(
    admin?.generatedPassword
      ? `  Admin      ${admin.username} / ${admin.generatedPassword}   (console sign-in; shown once, stored hashed — or set PAYCENTER_ADMIN_PASSWORD)`
      : admin
        ? `  Admin      ${admin.username}, password from PAYCENTER_ADMIN_PASSWORD`
        : '  Admin      the console operators made so far (the first admin is "admin")',
  );
  const { delivery } = config;
  if (delivery.webhookUrl) {
    lines.push(
      `  Webhooks   ${delivery.webhookUrl}` +
        (running.generatedWebhookSecret
          ? `   secret ${running.generatedWebhookSecret} (shown once; or set PAYCENTER_WEBHOOK_SECRET)`
          : delivery.webhookSecret
            ? '   secret from PAYCENTER_WEBHOOK_SECRET'
            : '   secret: the one printed when this URL was first set'),
    );
  }
  if (delivery.amqp) lines.push(`  RabbitMQ   exchange ${delivery.amqp.exchange} (routing key = event type)`);
  if (delivery.nats) lines.push(`  NATS       stream ${delivery.nats.stream}, subjects paycenter.<app>.<type>`);
  lines.push(
    '  Stop       Ctrl-C',
    '',
  );
  console.log(lines.join('\n'));
}

async function sandbox(config: Config, log: Logger, portFlag: string | undefined): Promise<void> {
  const { startStandaloneSandbox } = await import('./sandbox/index.ts');
  const { startEmbeddedPostgres } = await import('./store/embedded.ts');
  const port = portFlag === undefined ? 8090 : Number(portFlag);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('paycenter: --port must be a port number');
    process.exit(2);
  }
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: `${config.dataDir.replace(/\/+$/, '')}-sandbox`, log });
  const connectionString = config.databaseUrl ?? embedded!.connectionString;
  const standalone = await startStandaloneSandbox({ host: config.host, port, connectionString, timeScale: config.sandboxTimeScale, log });
  onShutdown(log, async () => {
    await standalone.close();
    await embedded?.stop();
  });
  console.log(
    `Sandbox at ${standalone.url}/sandbox/ (wechatpay, alipay, unionpay; control API: ${standalone.url}/sandbox/ledger)`,
  );
}

async function migrateOnly(config: Config): Promise<void> {
  if (!config.databaseUrl) {
    console.error('paycenter: migrate needs DATABASE_URL (serve migrates the embedded database itself)');
    process.exit(2);
  }
  const { migrate } = await import('./store/migrate.ts');
  await migrate(config.databaseUrl);
  console.log('migrations applied');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`paycenter: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
