/** Build the app server from config and hooks; shared by workers and single-process mode. */
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import { guardListener } from '../app/load.ts';
import { reportingTo } from '../app/reporting.ts';
import { guardUpgrade, type UpgradeListener } from '../app/upgrade.ts';
import type { Config } from '../config/settings.ts';
import { loadWire, type TlsFiles } from '../config/tls.ts';
import { type Hooks, runHook, type WorkerInfo } from '../hooks.ts';
import { openAccessLog } from '../log/access.ts';
import type { Logger } from '../log/logger.ts';
import { ForwardedPolicy } from '../proxy/client.ts';
import { TrustList } from '../proxy/ip.ts';
import {
  answerClientError,
  type ClientError,
  limitsFrom,
  type OnRefused,
  REFUSED_CODE,
} from './limits.ts';
import { AppServer, type AppServerOptions } from './server.ts';

export interface BuildOptions {
  readonly hooks: Hooks;
  readonly worker: WorkerInfo;
  /** After each request, with the worker's running total (max-requests). */
  readonly onRequestDone?: (requests: number) => void;
  readonly onHandoffClosed?: AppServerOptions['onHandoffClosed'];
  readonly onConnections?: AppServerOptions['onConnections'];
  /** After a request was cut by --request-timeout (a sync worker then asks to be replaced). */
  readonly onTimedOut?: () => void;
  /** Certificate files the master read (else they are read here). */
  readonly tlsFiles?: TlsFiles | null;
  /** The app's upgrade listener (its module's `upgrade` export). */
  readonly upgrade?: UpgradeListener | null;
}

export function buildAppServer(
  config: Config,
  listener: RequestListener,
  log: Logger,
  {
    hooks,
    worker,
    onRequestDone,
    onHandoffClosed,
    onConnections,
    onTimedOut,
    upgrade,
    tlsFiles,
  }: BuildOptions,
): AppServer {
  const report = (err: unknown, req: IncomingMessage) => {
    // The app failed reading a body corral refused (413, bad trailer): logged already.
    if ((err as { code?: unknown } | null)?.code === REFUSED_CODE) return;
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
  const limits = limitsFrom(config);
  // One line per refusal; timeouts and size limits are worth a warning, malformed input is
  // everyday internet noise.
  const onRefused: OnRefused = ({ status, reason }, client) => {
    const line = `refused ${client}: ${status} ${reason}`;
    if (status === 400) log.info(line);
    else log.warning(line);
  };
  const server = new AppServer({
    listener: guarded,
    // Certificates are read here, when the worker boots: a HUP rolls workers onto new ones.
    wire: loadWire(config, tlsFiles),
    upgrade: upgradeGuarded,
    keepAlive: sync ? 0 : config.keepAlive,
    connectionCap: sync ? 1 : config.workerConnections,
    requestTimeout: config.requestTimeout,
    accessLog: config.accessLogfile
      ? openAccessLog(config.accessLogfile, config.accessLogformat, (n) =>
          log.warning(`access log: dropped ${n} line(s): ${config.accessLogfile} cannot keep up`),
        )
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
    onConnections,
    limits,
    onRefused,
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
    onBadForwarding: (req, reason) =>
      log.info(`400 for ${req.method} ${req.url} from ${req.socket.remoteAddress}: ${reason}`),
  });
  // A failed TLS handshake (no client certificate, a client that does not trust ours): the
  // socket is closed by node:tls; say why at debug level.
  server.http.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    log.debug(`TLS handshake failed: ${err.code ?? err.message}`);
  });
  server.http.on('clientError', (err: ClientError, socket) =>
    answerClientError(err, socket as Socket, limits, onRefused),
  );
  return server;
}
