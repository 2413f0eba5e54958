// Maps every failure to `{error: {code, message, …}}` with a stable code. Unexpected errors are
// logged with the request id and answered as `internal_error` without internals.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { PaycenterError } from '../domain/errors.ts';
import { errorBody } from '../services/idempotency.ts';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Names the offending field of a schema validation error: `amount`, `metadata.color`, … */
function fieldOf(e: AjvError): string {
  const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const child = (e.params.missingProperty ?? e.params.additionalProperty) as string | undefined;
  return [path, child].filter(Boolean).join('.') || '(body)';
}

function validationMessage(e: AjvError, field: string): string {
  switch (e.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `${field} is not a known field`;
    case 'type':
      return `${field} must be of type ${String(e.params.type)}`;
    default:
      return `${field} ${e.message ?? 'is invalid'}`;
  }
}

function toPaycenterError(err: FastifyError): PaycenterError | null {
  if (err instanceof PaycenterError) return err;
  const validation = (err as { validation?: AjvError[] }).validation;
  if (validation?.[0]) {
    const first = validation[0];
    const field = fieldOf(first);
    return new PaycenterError('invalid_request', validationMessage(first, field), { field });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new PaycenterError('invalid_request', 'The body is not valid JSON.', { field: '(body)' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PaycenterError('payload_too_large', 'The body is larger than the limit of 64 KiB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PaycenterError('unsupported_media_type', 'Send the body as application/json.');
  }
  if (err.statusCode === 400) return new PaycenterError('invalid_request', err.message);
  return null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any server, logger and type provider
export function installErrorHandler(app: FastifyInstance<any, any, any, any, any>): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const known = toPaycenterError(err);
    if (known) return sendError(reply, known);
    req.log.error({ err }, 'unexpected error');
    return sendError(reply, new PaycenterError('internal_error', `Something failed on our side; retry later. Request id ${req.id}.`));
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new PaycenterError('not_found', `No route ${req.method} ${req.url.split('?')[0]}.`)),
  );
}

/** Answers `{error: {code, message, …}}` with the status ERROR_STATUS gives the code. */
export function sendError(reply: FastifyReply, err: PaycenterError): FastifyReply {
  return reply.code(err.status).send(errorBody(err));
}
