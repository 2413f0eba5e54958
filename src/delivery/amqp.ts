// RabbitMQ publisher: one confirm channel on one lazily opened connection, shared by every publish.
// A publish resolves on the broker's ack for that very message, which RabbitMQ sends once the
// persistent message is stored by every queue it was routed to.
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger.ts';
import { lazyConnection } from './lazy-connection.ts';
import { urlForLog } from './log-url.ts';
import { withTimeout } from './timeout.ts';
import type { BrokerPublisher, OutboundMessage } from './types.ts';

export interface AmqpPublisherOptions {
  url: string;
  /** A durable topic exchange, declared on every new connection; the routing key is the event type. */
  exchange: string;
  /** Bounds a publish, from connecting to the broker's ack. */
  timeoutMs: number;
  log: Logger;
}

interface Session {
  model: ChannelModel;
  channel: ConfirmChannel;
}

export function createAmqpPublisher(opts: AmqpPublisherOptions): BrokerPublisher {
  const log = opts.log.child({ target: 'amqp', broker: urlForLog(opts.url), exchange: opts.exchange });

  async function open(lost: () => void): Promise<Session> {
    // `timeout` bounds the TCP connect and the AMQP handshake; amqplib lifts it once open.
    const model = await amqp.connect(opts.url, { timeout: opts.timeoutMs });
    // Without an 'error' listener, a broker shutting down would crash the process.
    model.on('error', (err: Error) => log.warn({ err }, 'amqp connection failed'));
    model.on('blocked', (reason: string) => log.warn({ reason }, 'amqp broker blocks publishing'));
    model.on('close', lost);
    try {
      const channel = await withTimeout(openChannel(model, lost), opts.timeoutMs, 'amqp channel setup');
      log.info('amqp connected');
      return { model, channel };
    } catch (err) {
      shutQuietly(model);
      throw err;
    }
  }

  async function openChannel(model: ChannelModel, lost: () => void): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    channel.on('error', (err: Error) => log.warn({ err }, 'amqp channel closed by the broker'));
    // A closed channel cannot publish again: start over on a new connection.
    channel.on('close', () => {
      lost();
      shutQuietly(model);
    });
    await channel.assertExchange(opts.exchange, 'topic', { durable: true });
    return channel;
  }

  function send(channel: ConfirmChannel, message: OutboundMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const options = {
        persistent: true,
        messageId: message.eventId,
        contentType: 'application/json',
        appId: message.appId,
        type: message.type,
        timestamp: Math.floor(Date.now() / 1000),
      };
      // The callback is the broker's ack (null) or nack; amqplib also calls it with an error when
      // the channel closes first. A closed channel throws here, which rejects this promise.
      channel.publish(opts.exchange, message.type, Buffer.from(message.body), options, (err: unknown) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      );
    });
  }

  const connection = lazyConnection(open, ({ model }) => withTimeout(model.close(), opts.timeoutMs, 'amqp close'));

  return {
    target: 'amqp',
    async publish(message) {
      const delivered = connection.get().then(({ channel }) => send(channel, message));
      return withTimeout(delivered, opts.timeoutMs, `amqp publish of ${message.eventId}`);
    },
    close: () => connection.close(),
  };
}

/** Closing a connection that is already gone fails; that is fine, it is gone. */
function shutQuietly(model: ChannelModel): void {
  model.close().catch(() => undefined);
}
