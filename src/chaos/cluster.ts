// The systems of a chaos run as real processes: the sandbox bank (it must outlive Paycenter), N
// Paycenter processes on one database, and a Redis of the run's own when asked for. Any of them
// can be killed and started again on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, spawnPaycenter, waitForPort, waitReady, type Child } from '../harness/processes.ts';
import {
  generateSandboxMerchants,
  registerSandboxMerchants,
  sandboxChannelsSection,
  type SandboxMerchants,
} from '../runtime/sandbox-merchants.ts';

const REDIS_START_MS = 10_000;

export interface Instance {
  url: string;
  /** False between a kill and the restart. */
  readonly up: boolean;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface RedisServer {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface Cluster {
  sandboxUrl: string;
  /** The sandbox bank's process: never a fault target, it must outlive every Paycenter. */
  sandbox: Child;
  instances: Instance[];
  /** The merchants every instance uses, one per channel (for forging notifications). */
  merchants: SandboxMerchants;
  redis: RedisServer | undefined;
  /** Base URLs of the instances that are up now. */
  liveUrls(): string[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  instances: number;
  databaseUrl: string;
  /** Settings every Paycenter process gets (schedules, API key, webhook …). */
  env: Record<string, string>;
  redis: boolean;
  tmpDir: string;
  sandboxTimeScale: string;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const children: (() => Promise<void>)[] = [];
  try {
    const sandboxPort = await freePort();
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const sandbox = spawnPaycenter('sandbox', ['sandbox', '--port', String(sandboxPort)], {
      DATABASE_URL: opts.databaseUrl,
      PAYCENTER_SANDBOX_TIME_SCALE: opts.sandboxTimeScale,
      LOG_LEVEL: 'warn',
    });
    children.push(() => sandbox.stop());
    await waitReady(sandbox, `${sandboxUrl}/sandbox/faults`);

    const redis = opts.redis ? await startRedis() : undefined;
    if (redis) children.push(() => redis.kill());

    const ports = await Promise.all(Array.from({ length: opts.instances }, () => freePort()));
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    const merchants = generateSandboxMerchants();
    const registered = await registerSandboxMerchants(sandboxUrl, merchants);
    const instances: Instance[] = [];
    for (const [index, port] of ports.entries()) {
      // Each instance hears the notifications of the attempts it opened, as behind a sticky proxy.
      const configPath = join(opts.tmpDir, `paycenter-${index}.json`);
      const channels = sandboxChannelsSection(merchants, registered, { sandbox: sandboxUrl, paycenter: urls[index]! });
      await writeFile(configPath, JSON.stringify({ channels }), { mode: 0o600 });
      const env = {
        ...opts.env,
        DATABASE_URL: opts.databaseUrl,
        HOST: '127.0.0.1',
        PORT: String(port),
        PAYCENTER_CONFIG: configPath,
        PAYCENTER_SANDBOX: 'off',
        REDIS_URL: redis?.url ?? '',
      };
      const instance = paycenterInstance(index, urls[index]!, env);
      // One at a time: the first migrates the database.
      await instance.start();
      children.push(() => instance.kill());
      instances.push(instance);
    }
    return {
      sandboxUrl,
      sandbox,
      instances,
      merchants,
      redis,
      liveUrls: () => instances.filter((i) => i.up).map((i) => i.url),
      async stop() {
        for (const stop of children.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const stop of children.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

function paycenterInstance(index: number, url: string, env: Record<string, string>): Instance {
  let child: Child | undefined;
  let up = false;
  return {
    url,
    get up() {
      return up;
    },
    async kill() {
      up = false;
      await child?.kill();
      child = undefined;
    },
    async start() {
      if (up) return;
      await child?.kill();
      const started = spawnPaycenter(`paycenter-${index}`, ['serve'], env);
      child = started;
      try {
        await waitReady(started, `${url}/readyz`);
      } catch (err) {
        // Leave nothing half-started: the next start begins afresh.
        await started.kill();
        child = undefined;
        throw err;
      }
      up = true;
    },
  };
}

/** A redis-server of the run's own, so stopping it disturbs nobody else's. */
async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (!child) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
    async start() {
      if (child) return;
      const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      const failed = once(started, 'error').then(([err]) => Promise.reject(err as Error));
      child = started;
      await Promise.race([waitForPort(port, true, REDIS_START_MS), failed]);
    },
  };
  await server.start();
  return server;
}
