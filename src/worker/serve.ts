/** Build the app server from config and hooks; shared by workers and single-process mode. */
import type { IncomingMessage, RequestListener } from 'node:http';
import { guardListener } from '../app/load.ts';
import { reportingTo } from '../app/reporting.ts';
import { guardUpgrade, type UpgradeListener } from '../app/upgrade.ts';
import type { Config } from '../config/settings.ts';
import { type Hooks, runHook, type WorkerInfo } from '../hooks.ts';
import { openAccessLog } from '../log/access.ts';
import type { Logger } from '../log/logger.ts';
import { ForwardedPolicy } from '../proxy/client.ts';
import { TrustList } from '../proxy/ip.ts';
import { AppServer, type AppServerOptions } from './server.ts';

export interface BuildOptions {
  readonly hooks: Hooks;
  readonly worker: WorkerInfo;
  /** After each request, with the worker's running total (max-requests). */
  readonly onRequestDone?: (requests: number) => void;
  readonly onHandoffClosed?: AppServerOptions['onHandoffClosed'];
  /** After a request was cut by --request-timeout (a sync worker then asks to be replaced). */
  readonly onTimedOut?: () => void;
  /** The app's upgrade listener (its module's `upgrade` export). */
  readonly upgrade?: UpgradeListener | null;
}

export function buildAppServer(
  config: Config,
  listener: RequestListener,
  log: Logger,
  { hooks, worker, onRequestDone, onHandoffClosed, onTimedOut, upgrade }: BuildOptions,
): AppServer {
  const report = (err: unknown, req: IncomingMessage) => {
    log.error(`error handling ${req.method} ${req.url}: ${(err as Error)?.stack ?? err}`);
  };
  // A fetch bridge answers its own errors: it only needs to know where to report them, and
  // the request path is spared the guard's promise handling.
  const guarded = reportingTo(listener, report) ?? guardListener(listener, report);
  const upgradeGuarded =
    upgrade &&
    guardUpgrade(upgrade, (err, req) => {
      log.error(`error upgrading ${req.method} ${req.url}: ${(err as Error)?.stack ?? err}`);
    });
  const { preRequest, postRequest } = hooks;
  // sync: one request at a time, so no keep-alive (an idle connection would hold the worker).
  const sync = config.workerClass === 'sync';
  const server = new AppServer({
    listener: guarded,
    upgrade: upgradeGuarded,
    keepAlive: sync ? 0 : config.keepAlive,
    connectionCap: sync ? 1 : config.workerConnections,
    requestTimeout: config.requestTimeout,
    accessLog: config.accessLogfile
      ? openAccessLog(config.accessLogfile, config.accessLogformat)
      : null,
    // Per-request hooks cost nothing unless the config file sets them.
    beforeRequest: preRequest && ((req) => runHook(hooks, 'preRequest', log, worker, req)),
    afterRequest:
      postRequest || onRequestDone
        ? (req, res, n) => {
            if (postRequest) void runHook(hooks, 'postRequest', log, worker, req, res);
            onRequestDone?.(n);
          }
        : undefined,
    onRequestTimeout: (req, ms) => {
      log.warning(
        `request timeout: ${req.method} ${req.url} ran ${(ms / 1000).toFixed(1)} s (request-timeout ${config.requestTimeout} s); answered 503, ${sync ? 'the sync worker will be replaced' : 'the worker keeps serving'}`,
      );
      onTimedOut?.();
    },
    onHandoffClosed,
    forwarded: ForwardedPolicy.from(config.forwardedAllowIps, config.secureSchemeHeaders),
    proxyProtocol:
      config.proxyProtocol === 'off'
        ? null
        : {
            mode: config.proxyProtocol,
            allowFrom: new TrustList(config.proxyAllowFrom),
            onRefused: (reason, peer) =>
              log.warning(`PROXY protocol: closed a connection from ${peer}: ${reason}`),
          },
    onRefused: (req, reason) =>
      log.info(`400 for ${req.method} ${req.url} from ${req.socket.remoteAddress}: ${reason}`),
  });
  server.http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    log.debug(`client error: ${err.code ?? err.message}`);
    if (socket.writable && !socket.destroyed) {
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });
  return server;
}
