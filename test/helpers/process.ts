// Paycenter as a real child process (`node bin/paycenter.js serve`), for tests that kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/paycenter.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The test runner's environment without Paycenter's own settings, so a child sees only what the test gives it. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const own = /^(PAYCENTER_|DATABASE_URL$|REDIS_URL$|AMQP_URL$|NATS_URL$|PORT$|HOST$|LOG_LEVEL$)/;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !own.test(k)));
}

export interface PaycenterProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts `paycenter serve` (or `args`) and waits until `readyPath` answers and `readyText` was
 * printed, or the process dies.
 */
export async function spawnPaycenter(
  env: Record<string, string>,
  port: number,
  timeoutMs = 60_000,
  args: string[] = ['serve'],
  ready = { path: '/readyz', text: 'Paycenter is running' },
): Promise<PaycenterProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...inheritedEnv(), ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  let dead = false;
  void exited.then(() => (dead = true));
  while (!dead && Date.now() < until) {
    const answered = await fetch(`${baseUrl}${ready.path}`).then((r) => r.ok, () => false);
    if (answered && output.includes(ready.text)) return { child, baseUrl, output: () => output, exited };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`paycenter did not become ready:\n${output}`);
}
