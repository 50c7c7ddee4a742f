/**
 * The app's way to its worker's HTTP server for protocol upgrades (WebSocket): the app module
 * may export `upgrade(req, socket, head, { signal })`, a Node `'upgrade'` listener that corral
 * attaches to every worker's server (and to the master's in single-process mode). Workers never
 * expose the server object itself, so an app cannot listen() or close() under corral.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface UpgradeContext {
  /**
   * Aborts when this worker starts draining (graceful stop, HUP or --reload roll, recycling).
   * Upgraded connections belong to the app: corral cannot speak their protocol, so it leaves
   * them open until they close or the graceful timeout ends the worker. Close them on abort
   * (a WebSocket's 1001 "going away") and clients reconnect to a fresh worker.
   */
  readonly signal: AbortSignal;
}

export type UpgradeListener = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  context: UpgradeContext,
) => unknown;

/**
 * A throw or rejection in the app's upgrade listener destroys that one connection and is
 * reported; the worker keeps serving everything else.
 */
export function guardUpgrade(
  upgrade: UpgradeListener,
  onError: (err: unknown, req: IncomingMessage) => void,
): UpgradeListener {
  const fail = (err: unknown, req: IncomingMessage, socket: Duplex) => {
    onError(err, req);
    socket.destroy();
  };
  return (req, socket, head, context) => {
    try {
      const r = upgrade(req, socket, head, context);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (err) => fail(err, req, socket));
      }
    } catch (err) {
      fail(err, req, socket);
    }
  };
}
