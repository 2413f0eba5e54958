// The sandbox's routes read bodies as the exact string received: WeChat signatures cover those
// bytes, and re-serializing parsed JSON would change them. Scoped to the sandbox's own plugins so
// the host application's parsers are untouched.
import type { FastifyInstance, FastifyRequest } from 'fastify';

export function keepRawBodies(instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
}

export function rawBodyOf(req: FastifyRequest): string {
  return typeof req.body === 'string' ? req.body : '';
}

/** The JSON value of the raw body, or undefined when it is not JSON. */
export function parseJsonBody(req: FastifyRequest): unknown {
  const raw = rawBodyOf(req);
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
