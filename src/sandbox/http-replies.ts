// Answers every simulated channel's routes share: an HTML page, a control-API error, and the
// "timeout" faults' dead socket.
import type { FastifyReply, FastifyRequest } from 'fastify';

export function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** The control API's error body, the same for every channel: `{"error":{"code","message"}}`. */
export function sendControlError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/** "Timeout" faults: the socket dies with no answer, whatever the request already changed. */
export function dropConnection(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  req.raw.socket.destroy();
  return reply;
}
