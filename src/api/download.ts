import type { FastifyReply } from 'fastify';

/**
 * A file instead of the JSON answer (`?format=csv|xlsx|md`): sent with its own content type, and named for
 * saving when `filename` is given. The route's contract declares the JSON shape only; a body with a non-JSON
 * content type bypasses the response schema's serializer (Fastify sends it as it is), so this takes the reply
 * untyped by the route's `Reply`.
 */
export function download(reply: FastifyReply, contentType: string, body: string | Buffer, filename?: string): FastifyReply {
  const r = reply.type(contentType);
  return (filename === undefined ? r : r.header('content-disposition', `attachment; filename="${filename}"`)).send(body);
}
