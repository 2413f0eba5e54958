// How the sandbox's WeChat Pay API answers: JSON serialized once (the onSend hook signs exactly
// those bytes), WeChat's error body, the one unsigned answer (a bill file), and the query-side
// faults every read-only call shares.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FaultSwitchboard } from '../faults.ts';
import { dropConnection } from '../http-replies.ts';

/** Answers that the signing hook leaves unsigned (bill downloads, channels.md §1.3). */
const unsignedReplies = new WeakSet<FastifyReply>();

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return sendJson(reply, status, { code, message });
}

/** A file as WeChat serves bill downloads: 200, text/plain UTF-8, no Wechatpay-* signature. */
export function sendUnsignedFile(reply: FastifyReply, bytes: Buffer): FastifyReply {
  unsignedReplies.add(reply);
  return reply.code(200).type('text/plain; charset=utf-8').send(bytes);
}

export function isUnsigned(reply: FastifyReply): boolean {
  return unsignedReplies.has(reply);
}

/** The queryErrorRate / queryTimeoutRate faults for a read-only call: the answer sent, or undefined if none struck. */
export function queryFault(faults: FaultSwitchboard, req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  const fault = faults.current;
  if (faults.strikes(fault.queryErrorRate)) return sendError(reply, 500, 'SYSTEM_ERROR', 'system error (injected fault)');
  if (faults.strikes(fault.queryTimeoutRate)) return dropConnection(req, reply);
  return undefined;
}
