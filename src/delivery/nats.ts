// NATS JetStream publisher: events go to `paycenter.<appId>.<type>` in one file-backed stream, and a
// publish resolves on the stream's PubAck. The event id is the Nats-Msg-Id, so a retry after a
// lost PubAck (or a publish buffered across a reconnect) is stored once within the duplicate window.
import {
  connect,
  Events,
  nanos,
  NatsError,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { Logger } from '../logger.ts';
import { lazyConnection } from './lazy-connection.ts';
import { urlForLog } from './log-url.ts';
import { withTimeout } from './timeout.ts';
import type { BrokerPublisher } from './types.ts';

/** Long enough for the dispatcher's first retries, which are the ones a lost PubAck causes. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** JetStream's API error code for "stream not found". */
const STREAM_NOT_FOUND = 10059;

export interface NatsPublisherOptions {
  /** One server or a comma-separated list, as in NATS_URL. */
  url: string;
  /** Created on first use with the subjects `paycenter.>` when missing. */
  stream: string;
  /** Bounds the connect, each JetStream API call, and a publish up to its PubAck. */
  timeoutMs: number;
  log: Logger;
}

interface Session {
  nc: NatsConnection;
  js: JetStreamClient;
}

export function createNatsPublisher(opts: NatsPublisherOptions): BrokerPublisher {
  const servers = opts.url.split(',').map((server) => server.trim());
  const log = opts.log.child({ target: 'nats', broker: servers.map(urlForLog).join(','), stream: opts.stream });

  async function open(lost: () => void): Promise<Session> {
    // Once connected, nats.js reconnects by itself, without end; a publish meanwhile waits in its
    // buffer and fails on its own timeout. Only a closed connection is replaced.
    const nc = await connect({ servers, timeout: opts.timeoutMs, maxReconnectAttempts: -1, name: 'paycenter' });
    void nc.closed().then((err) => {
      lost();
      if (err) log.warn({ err }, 'nats connection closed');
    });
    void logStatus(nc, log);
    try {
      await ensureStream(await nc.jetstreamManager({ timeout: opts.timeoutMs }));
      log.info('nats connected');
      return { nc, js: nc.jetstream({ timeout: opts.timeoutMs }) };
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  async function ensureStream(jsm: JetStreamManager): Promise<void> {
    try {
      await jsm.streams.info(opts.stream);
    } catch (err) {
      if (!(err instanceof NatsError && err.api_error?.err_code === STREAM_NOT_FOUND)) throw err;
      await jsm.streams.add({
        name: opts.stream,
        subjects: ['paycenter.>'],
        storage: StorageType.File,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      });
      log.info('nats stream created');
    }
  }

  const connection = lazyConnection(open, ({ nc }) => nc.close());

  return {
    target: 'nats',
    async publish(message) {
      const acked = connection.get().then(({ js }) =>
        js.publish(`paycenter.${message.appId}.${message.type}`, message.body, {
          msgID: message.eventId,
          timeout: opts.timeoutMs,
        }),
      );
      await withTimeout(acked, opts.timeoutMs, `nats publish of ${message.eventId}`);
    },
    close: () => connection.close(),
  };
}

/** Logs the connection's ups and downs; ends when the connection closes. */
async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === Events.Disconnect) log.warn({ server: status.data }, 'nats disconnected; reconnecting');
    else if (status.type === Events.Reconnect) log.info({ server: status.data }, 'nats reconnected');
    else if (status.type === Events.Error) log.warn({ error: status.data }, 'nats connection error');
  }
}
