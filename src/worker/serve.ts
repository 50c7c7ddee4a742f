/** Build the app server from config and listen per plan; shared by workers and single mode. */
import type { RequestListener } from 'node:http';
import { guardListener } from '../app/load.ts';
import type { Config } from '../config/settings.ts';
import { openAccessLog } from '../log/access.ts';
import type { Logger } from '../log/logger.ts';
import { AppServer, type AppServerOptions } from './server.ts';

export function buildAppServer(
  config: Config,
  listener: RequestListener,
  log: Logger,
  extra: Pick<AppServerOptions, 'onRequestDone' | 'onHandoffClosed'> = {},
): AppServer {
  const guarded = guardListener(listener, (err, req) => {
    log.error(`error handling ${req.method} ${req.url}: ${(err as Error)?.stack ?? err}`);
  });
  const server = new AppServer({
    listener: guarded,
    keepAlive: config.keepAlive,
    accessLog: config.accessLogfile
      ? openAccessLog(config.accessLogfile, config.accessLogformat)
      : null,
    ...extra,
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
