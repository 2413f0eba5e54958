// The transactional outbox: an event row written in the state change's own transaction (G4).
import type { Tx } from './db.ts';
import type { EventType } from '../domain/events.ts';

export interface NewEvent {
  id: string;
  appId: string;
  orderId: string;
  type: EventType;
  data: unknown;
}

/** Takes the order's next sequence number and writes the event; returns the sequence. */
export async function insertEvent(tx: Tx, e: NewEvent): Promise<number> {
  const { rows } = await tx.query<{ sequence: number }>({
    name: 'insert_event',
    text: `WITH seq AS (
       UPDATE orders SET event_sequence = event_sequence + 1 WHERE id = $3 RETURNING event_sequence
     )
     INSERT INTO events (id, app_id, order_id, type, sequence, data)
     SELECT $1, $2, $3, $4, event_sequence, $5 FROM seq
     RETURNING sequence`,
    values: [e.id, e.appId, e.orderId, e.type, JSON.stringify(e.data)],
  });
  return rows[0]!.sequence;
}
