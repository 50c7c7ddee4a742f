/**
 * Fetch handler → Node request listener. `@hono/node-server`'s getRequestListener builds the
 * Request lazily and writes common Response shapes without a stream; measured in
 * docs/architecture.md against a plain listener.
 */
import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';

/**
 * A fetch handler. The second argument carries the Node objects (`{ incoming, outgoing }`),
 * which is how a fetch app reaches the client address or the socket.
 */
export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

export function fetchListener(fetch: FetchHandler): RequestListener {
  return getRequestListener(fetch) as unknown as RequestListener;
}
