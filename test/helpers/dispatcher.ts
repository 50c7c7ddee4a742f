// For tests of the master's Dispatcher alone: a paused loopback listener, as the master's.
import { createServer, type Server } from 'node:net';
import type { Listener } from '../../src/master/listeners.ts';

/** A loopback server that accepts paused connections, as the master's listener does. */
export function listen(): Promise<Server> {
  const server = createServer({ pauseOnConnect: true });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

/** That server as the dispatcher's Listener. */
export function asListener(server: Server): Listener {
  return {
    server,
    fd: -1,
    url: '',
    address: {} as Listener['address'],
    close: () => server.close(),
  };
}
