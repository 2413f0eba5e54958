// Shared by the broker publisher tests: messages, brokers that cannot answer, and a log sink.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import type { Logger } from '../../src/logger.ts';
import type { BrokerPublisher, OutboundMessage } from '../../src/delivery/types.ts';

const POLL_MS = 100;

/** Not a speed requirement: "about timeoutMs" with room for a loaded machine; a hang exceeds it. */
const REJECT_MARGIN_MS = 3_000;

/** A suffix that keeps this run's exchanges, streams and ids apart from every other run's. */
export function runSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** Event `n` of a run; app ids hold '-' and '_' as real ones (`app_<base64url>`) do. */
export function outboundMessage(run: string, n: number | string, type = 'order.paid'): OutboundMessage {
  const eventId = `evt_${run}_${n}`;
  return {
    eventId,
    type,
    appId: `app_Zx-${run}_q`,
    body: JSON.stringify({ id: eventId, type, data: { n } }),
  };
}

/** Publishes `count` events of two types at once, closes the publisher, and returns the events. */
export async function publishConcurrently(publisher: BrokerPublisher, run: string, count: number): Promise<OutboundMessage[]> {
  const messages = Array.from({ length: count }, (_, n) => outboundMessage(run, n, n % 2 === 0 ? 'order.paid' : 'order.closed'));
  try {
    await Promise.all(messages.map((message) => publisher.publish(message)));
  } finally {
    await publisher.close();
  }
  return messages;
}

/** A port nothing listens on: a fresh server's, closed again. */
async function closedPort(): Promise<number> {
  const server = await listen(net.createServer());
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A broker that accepts the TCP connection and then never says a word. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = await listen(
    net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function listen(server: net.Server): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export { waitForPort } from '../../src/harness/processes.ts';

/** Polls `check` until it returns true, or fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A logger that keeps every line, to assert on what the publisher logged. */
export function capturedLogger(): { log: Logger; text(): string } {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { log, text: () => lines.join('') };
}

/** `publish` must reject, and within about `timeoutMs`: never hang. */
export async function expectPromptRejection(publish: () => Promise<void>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  await expect(publish()).rejects.toThrow();
  expect(Date.now() - started).toBeLessThan(timeoutMs + REJECT_MARGIN_MS);
}

/** `publisher`'s broker is down: its first publish fails; once `bringUp` is done, the next one connects. */
export async function expectConnectOnNextPublish(publisher: BrokerPublisher, bringUp: () => Promise<void>): Promise<void> {
  const run = runSuffix();
  try {
    await expect(publisher.publish(outboundMessage(run, 'too-early'))).rejects.toThrow();
    await bringUp();
    await publisher.publish(outboundMessage(run, 'on-time'));
  } finally {
    await publisher.close();
  }
}

/**
 * The tests every publisher passes against a broker that cannot answer: nothing listens, or a
 * server takes the connection and says nothing. `publisherAt` makes one for 127.0.0.1:`port`.
 */
export function itRejectsWhenNoBrokerAnswers(publisherAt: (port: number) => BrokerPublisher, timeoutMs: number): void {
  const run = runSuffix();

  it('rejects within about its timeout when nothing listens, and again on the next publish', async () => {
    const publisher = publisherAt(await closedPort());
    try {
      await expectPromptRejection(() => publisher.publish(outboundMessage(run, 'refused-1')), timeoutMs);
      await expectPromptRejection(() => publisher.publish(outboundMessage(run, 'refused-2')), timeoutMs);
    } finally {
      await publisher.close();
    }
  });

  it('rejects within about its timeout when the broker takes the connection and never answers', async () => {
    const server = await silentServer();
    const publisher = publisherAt(server.port);
    try {
      await expectPromptRejection(() => publisher.publish(outboundMessage(run, 'silent')), timeoutMs);
    } finally {
      await publisher.close();
      await server.close();
    }
  });
}
