// Suites that need Redis, RabbitMQ or NATS ask for it first, at the top of the test file:
//
//   import { requireService } from '../helpers/services.ts';
//   const redisUp = await requireService('redis');          // REDIS_URL, else 127.0.0.1:6379
//   describe.skipIf(!redisUp)('redis rate limiter', () => { … });
//
// Locally a missing service skips the suite with a loud warning, so a laptop without RabbitMQ can
// still run everything else. Under CI (CI=true) it throws instead: a missing service fails the run
// rather than passing it with suites quietly skipped. .ci/run starts every service first.
import net from 'node:net';

export type ServiceName = 'redis' | 'rabbitmq' | 'nats';

const SERVICES: Record<ServiceName, { env: string; port: number }> = {
  redis: { env: 'REDIS_URL', port: 6379 },
  rabbitmq: { env: 'AMQP_URL', port: 5672 },
  nats: { env: 'NATS_URL', port: 4222 },
};
const PROBE_TIMEOUT_MS = 1_000;

/**
 * True when the service's TCP port accepts a connection. `url` wins over the environment variable
 * (REDIS_URL, AMQP_URL, NATS_URL), which wins over 127.0.0.1 and the standard port.
 */
export async function requireService(name: ServiceName, url?: string): Promise<boolean> {
  const service = SERVICES[name];
  const { host, port } = parseTarget(url ?? process.env[service.env], service.port);
  if (await accepts(host, port)) return true;
  const where = `${host}:${port}`;
  if (process.env.CI === 'true') {
    throw new Error(`${name} is not reachable at ${where}, and under CI every service must be up (.ci/run starts them)`);
  }
  process.stderr.write(
    `\n${'!'.repeat(72)}\n!!! SKIPPING ${callingTestFile()}: ${name} is not reachable at ${where}\n` +
      `!!! Start it, or set ${service.env}. Under CI this fails the run.\n${'!'.repeat(72)}\n\n`,
  );
  return false;
}

function parseTarget(url: string | undefined, defaultPort: number): { host: string; port: number } {
  // NATS_URL may list several servers; the first one decides.
  const first = url?.split(',')[0]?.trim();
  if (!first) return { host: '127.0.0.1', port: defaultPort };
  const parsed = new URL(first.includes('://') ? first : `tcp://${first}`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : defaultPort,
  };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The test file that asked, for the warning; read off the call stack. */
function callingTestFile(): string {
  const frame = new Error().stack?.split('\n').find((line) => /\.test\.[cm]?[jt]s/.test(line));
  return /([^\s(]*?\.test\.[cm]?[jt]s)/.exec(frame ?? '')?.[1]?.replace(/^file:\/\//, '') ?? 'this suite';
}
