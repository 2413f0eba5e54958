// What the delivery dispatcher hands to a transport. A transport resolves only when the receiver
// has taken the message (2xx, broker confirm); anything else is a failed attempt to retry.

/** One event on its way out; `body` is the JSON event envelope, identical for every target. */
export interface OutboundMessage {
  eventId: string;
  type: string;
  appId: string;
  body: string;
}

export type BrokerTarget = 'amqp' | 'nats';

export interface BrokerPublisher {
  readonly target: BrokerTarget;
  /**
   * Resolves once the broker has confirmed the message as stored; rejects, within the
   * publisher's timeout, when it has not (down, refused, nacked). Never hangs.
   */
  publish(message: OutboundMessage): Promise<void>;
  close(): Promise<void>;
}
