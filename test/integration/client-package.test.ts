// `paycenter/client` as a business system gets it: built to dist/ and imported by plain Node (no
// tsx) through the package's "exports", verifying a signature made by the standardwebhooks package.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { newWebhookSecret } from '../../src/domain/webhook-signature.ts';
import { eventFixture } from '../helpers/client-fixtures.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_TIMEOUT_MS = 120_000;

const SCRIPT = `
const kit = await import('paycenter/client');
const { Webhook } = await import('standardwebhooks');
const { SECRET: secret, BODY: body } = process.env;
const id = JSON.parse(body).id;
const now = new Date();
const headers = {
  'webhook-id': id,
  'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  'webhook-signature': new Webhook(secret).sign(id, now, body),
};
let forged;
try {
  kit.verifyWebhook(headers, body + ' ', secret);
} catch (err) {
  forged = err instanceof kit.WebhookVerificationError ? err.code : String(err);
}
console.log(JSON.stringify({
  exports: Object.fromEntries(Object.entries(kit).map(([k, v]) => [k, typeof v])),
  verifiedId: kit.verifyWebhook(headers, body, secret).id,
  forged,
}));
`;

beforeAll(async () => {
  await run('npm', ['run', 'build:client'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS });
}, BUILD_TIMEOUT_MS);

it('builds dist/client with its type declarations', () => {
  for (const file of ['dist/client/index.js', 'dist/client/index.d.ts', 'dist/domain/webhook-signature.js']) {
    expect(existsSync(`${ROOT}/${file}`), file).toBe(true);
  }
});

it('plain node imports paycenter/client and verifies a standardwebhooks signature with it', async () => {
  const event = eventFixture();
  // Without NODE_OPTIONS, so no loader the test runner may use can help the import along.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    cwd: ROOT,
    env: { ...env, SECRET: newWebhookSecret(), BODY: JSON.stringify(event) },
  });
  const result = JSON.parse(stdout) as { exports: Record<string, string>; verifiedId: string; forged: string };
  expect(result.exports).toMatchObject({
    verifyWebhook: 'function',
    createInbox: 'function',
    createEventHub: 'function',
    createPaycenterClient: 'function',
    WebhookVerificationError: 'function',
    PaycenterApiError: 'function',
  });
  expect(result.verifiedId).toBe(event.id);
  expect(result.forged).toBe('bad_signature');
});
