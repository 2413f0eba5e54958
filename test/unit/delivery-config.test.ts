// Delivery settings: defaults, brokers and the configured webhook, and a clear error per bad value.
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.ts';
import { DEFAULT_DELIVERY_SCHEDULE_MS } from '../../src/domain/delivery-schedule.ts';
import { newWebhookSecret } from '../../src/domain/webhook-signature.ts';

function refused(env: Record<string, string>, key: string, message: RegExp): void {
  let error: unknown;
  try {
    resolveConfig({}, env);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).key).toBe(key);
  expect((error as Error).message).toMatch(message);
}

describe('delivery configuration', () => {
  it('has the documented defaults: no brokers, no webhook, three days of retries', () => {
    expect(resolveConfig({}, {}).delivery).toEqual({
      scheduleMs: DEFAULT_DELIVERY_SCHEDULE_MS,
      timeoutMs: 10_000,
      concurrency: 32,
      pollIntervalMs: 1_000,
      webhookUrl: undefined,
      webhookSecret: undefined,
      amqp: undefined,
      nats: undefined,
    });
  });

  it('reads brokers with their default exchange and stream, and the configured webhook', () => {
    const secret = newWebhookSecret();
    const d = resolveConfig(
      {},
      {
        AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
        NATS_URL: 'nats://127.0.0.1:4222',
        PAYCENTER_WEBHOOK_URL: 'https://shop.example/hooks',
        PAYCENTER_WEBHOOK_SECRET: secret,
        PAYCENTER_DELIVERY_SCHEDULE: '100, 200',
      },
    ).delivery;
    expect(d.amqp).toEqual({ url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'paycenter.events' });
    expect(d.nats).toEqual({ url: 'nats://127.0.0.1:4222', stream: 'PAYCENTER' });
    expect(d.webhookSecret).toBe(secret);
    expect(d.scheduleMs).toEqual([100, 200]);
  });

  it('names the key of every bad value', () => {
    refused({ AMQP_URL: 'http://rabbit' }, 'AMQP_URL', /amqp:\/\/ or amqps:\/\//);
    refused({ NATS_URL: 'not a url' }, 'NATS_URL', /not a valid URL/);
    refused({ NATS_URL: 'nats://n:4222', PAYCENTER_NATS_STREAM: 'a.b' }, 'PAYCENTER_NATS_STREAM', /letters, digits/);
    refused({ PAYCENTER_WEBHOOK_SECRET: newWebhookSecret() }, 'PAYCENTER_WEBHOOK_SECRET', /PAYCENTER_WEBHOOK_URL is not/);
    refused({ PAYCENTER_WEBHOOK_URL: 'https://x.example', PAYCENTER_WEBHOOK_SECRET: 'secret' }, 'PAYCENTER_WEBHOOK_SECRET', /whsec_/);
    refused({ PAYCENTER_WEBHOOK_URL: 'ftp://x.example' }, 'PAYCENTER_WEBHOOK_URL', /http:\/\/ or https:\/\//);
    refused({ PAYCENTER_DELIVERY_SCHEDULE: '100,soon' }, 'PAYCENTER_DELIVERY_SCHEDULE', /entry 2/);
    refused({ PAYCENTER_DELIVERY_TIMEOUT_MS: '10' }, 'PAYCENTER_DELIVERY_TIMEOUT_MS', /from 100/);
  });
});
