/**
 * What a worker serves: the handler the app module exports, or (listen mode) the HTTP server
 * the app opened with listen(). The app file runs as the main module, as under `node FILE`,
 * with listen() intercepted (listen-mode.ts) from before its first line.
 */
import type { EventEmitter } from 'node:events';
import type { RequestListener } from 'node:http';
import { relative, resolve } from 'node:path';
import type { AppCloser } from '../app/close.ts';
import { appFromModule, appPath, type LoadedApp, loadFailure } from '../app/load.ts';
import { runAsMain } from '../app/script.ts';
import { parseAppSpec } from '../app/spec.ts';
import type { UpgradeListener } from '../app/upgrade.ts';
import type { Config } from '../config/settings.ts';
import { AppLoadError } from '../errors.ts';
import { existsSync } from '../fs.ts';
import type { Logger } from '../log/logger.ts';
import { type BindInfo, ListenInterceptor } from './listen-mode.ts';

export interface Serving {
  readonly listener: RequestListener;
  readonly upgrade: UpgradeListener | null;
  /** e.g. `fetch handler (default export of app.ts)`, `listen() script (http.Server, …)`. */
  readonly description: string;
  /** Listen mode: the interceptor holding the app's servers (closed on drain). */
  readonly listening: ListenInterceptor | null;
  /** Closes an exported app on drain (Fastify, a factory's close()); null in listen mode. */
  readonly close: AppCloser | null;
  /**
   * Listen mode: whether a request asking to upgrade is one (the app's server has 'upgrade'
   * listeners); otherwise it is an ordinary request, as on the app's own server.
   */
  readonly shouldUpgrade?: () => boolean;
}

/**
 * Give corral's server the app's upgrade decision: node:http's shouldUpgradeCallback where
 * Node has it (24). Node 22's server takes a request asking to upgrade as an upgrade whenever
 * the server has 'upgrade' listeners, and corral's has one in listen mode (else a WebSocket
 * app's upgrades could not reach the app's server): there its listener count for 'upgrade'
 * gives the app's decision instead, so such a request to an app without WebSockets is an
 * ordinary request, as on the app's own server, not a connection destroyed.
 */
export function decideUpgrades(app: Serving, server: EventEmitter): void {
  const wants = app.shouldUpgrade;
  if (!wants) return;
  if ('shouldUpgradeCallback' in server) {
    Object.assign(server, { shouldUpgradeCallback: wants });
    return;
  }
  const count = server.listenerCount;
  Object.assign(server, {
    listenerCount(this: EventEmitter, name: string | symbol, ...rest: [listener?: () => void]) {
      return name === 'upgrade' && !wants() ? 0 : count.call(this, name, ...rest);
    },
  });
}

export interface ServeOptions {
  readonly spec: string;
  readonly args: readonly string[];
  readonly bind: BindInfo | null;
  readonly log: Logger;
  /**
   * The app exports no handler and has not listened yet: say what the worker waits for.
   * `ended` is the answer should nothing of the app be left to call listen().
   */
  readonly onWaiting?: (why: string, ended: AppLoadError) => void;
  /** The app closed its server (listen mode): drain this worker. */
  readonly onAppClose?: () => void;
}

/** `http.Server`, `https.Server`, `http2.Http2SecureServer`: the kind of server the app made. */
export function serverKind(server: object): string {
  const name = (server.constructor as { name?: string } | undefined)?.name ?? 'Server';
  if (name.startsWith('Http2')) return `http2.${name}`;
  if (typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function') {
    return 'https.Server';
  }
  return 'http.Server';
}

/** PORT, HOST and HOSTNAME name corral's bind, so an app that reads them agrees with it. */
export function bindEnv(bind: BindInfo | null): Record<string, string> {
  if (!bind || 'path' in bind) return {};
  return { PORT: String(bind.port), HOST: bind.address, HOSTNAME: bind.address };
}

export async function loadServing(o: ServeOptions): Promise<Serving> {
  const { spec, log } = o;
  const file = parseAppSpec(spec).file;
  const path = appPath(spec);
  let handlerMode = false;
  const intercept = ListenInterceptor.install({
    bind: o.bind,
    onOther: (role, asked, primaryAsked) => {
      if (role === 'alias') {
        log.debug(
          `the app opened a second server with the same handler (${asked}): served as one with the first (${primaryAsked})`,
        );
      } else {
        log.warning(
          `the app opened another HTTP server (${asked}); it is not served: corral serves the app's first HTTP server (${primaryAsked}) on its binds`,
        );
      }
    },
    onPrimaryClose: () => {
      if (!handlerMode) o.onAppClose?.();
      else intercept.closeAll();
    },
  });
  Object.assign(process.env, bindEnv(o.bind));
  // The app's first console.log opens stdout's handle, which Node 22 lists among active
  // resources even when it keeps nothing alive: open both stdio streams first, so it is not
  // taken for something of the app still pending.
  for (const stream of [process.stdout, process.stderr]) stream.fd;
  const before = process.getActiveResourcesInfo();
  let mod: Record<string | symbol, unknown>;
  try {
    mod = await runAsMain(path, o.args);
  } catch (err) {
    throw loadFailure(file, err);
  }
  // An exported handler is served (a named export, or the default one), whatever else the
  // module does: `if (import.meta.main) server.listen()` and `export default app` beside
  // `app.listen()` keep being served by their export. Otherwise the app is a script.
  const app = await appFromModule(mod, spec, path);
  if (!('noHandler' in app)) {
    handlerMode = true;
    noteIgnoredListen(intercept, app, log);
    return { ...app, listening: null };
  }
  if (intercept.primary) return listenMode(intercept);
  const alt = alternativeEntry(path);
  const also = alt ? ` (${alt})` : '';
  const ended = new AppLoadError(
    `corral: ${file} ${app.noHandler}, and its code ran to the end without calling listen() on an HTTP server; ${EXPECTED_APP}${also}`,
  );
  // Under `node FILE` such a script would simply end: say so now, not at the boot timeout.
  if (await endedWithoutListening(intercept, before)) throw ended;
  o.onWaiting?.(
    `${file} ${app.noHandler}, and it has not called listen() on an HTTP server${also}`,
    ended,
  );
  await intercept.listened();
  return listenMode(intercept);
}

/** Serve the app's first HTTP server. */
function listenMode(intercept: ListenInterceptor): Serving {
  const server = intercept.primary;
  if (!server) throw new Error('listen mode without a server');
  return {
    listener: ListenInterceptor.requestListener(server),
    upgrade: ListenInterceptor.upgradeListener(server),
    description: `listen() script (${serverKind(server)}, asked for ${intercept.asked})`,
    listening: intercept,
    close: null,
    shouldUpgrade: () => server.listenerCount('upgrade') > 0,
  };
}

/** What an app file may be, for error messages. */
export const EXPECTED_APP =
  'serve a script that calls listen() on an HTTP server (http, https, http2, Express, Fastify, Koa, Nest), or a module that exports a handler: a (req, res) listener, a fetch handler, an Express/Koa app, a Fastify instance, or a factory named as FILE:factory()';

/**
 * The app's top-level code has run and it has not listened: is anything of it still pending
 * (a timer, a socket, a file read), or nothing, so it can never call listen()? Looked at a
 * few times over ~50 ms, against the resources open before the app ran.
 */
async function endedWithoutListening(
  intercept: ListenInterceptor,
  before: readonly string[],
): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (intercept.primary) return false;
    const left = [...before];
    for (const r of process.getActiveResourcesInfo()) {
      const at = left.indexOf(r);
      if (at < 0) return false;
      left.splice(at, 1);
    }
  }
  return !intercept.primary;
}

/** Handler mode: an app that listens too gets its server marked listening, never fed. */
function noteIgnoredListen(intercept: ListenInterceptor, app: LoadedApp, log: Logger): void {
  const say = () =>
    log.info(
      `the app called listen() (${intercept.asked}) and exports a handler: corral serves the ${app.description}; the server it listened with gets no connections`,
    );
  if (intercept.primary) say();
  else void intercept.listened().then(say);
}

/**
 * The handler export a framework's build offers beside its listening entry point, when this
 * file looks like one of those builds (for messages: there is another way to serve it).
 */
export function alternativeEntry(path: string): string | null {
  const norm = path.replaceAll('\\', '/');
  const dir = norm.slice(0, norm.lastIndexOf('/'));
  if (norm.endsWith('/index.js') && existsSync(`${dir}/handler.js`)) {
    return `SvelteKit's adapter-node also builds ${relative(process.cwd(), `${dir}/handler.js`)}, which exports its handler`;
  }
  if (norm.endsWith('/.output/server/index.mjs')) {
    return "Nitro's node-listener preset (NITRO_PRESET=node-listener) builds an exported listener instead";
  }
  if (norm.endsWith('/dist/server/entry.mjs')) {
    return "Astro's node adapter in middleware mode exports `handler` (serve dist/server/entry.mjs:handler)";
  }
  if (norm.includes('/.next/standalone/')) {
    return "Next.js's getRequestHandler() serves it as an exported handler from a file of your own";
  }
  return null;
}

/**
 * Files corral opens in a worker (the logs, reopened on USR1; certificates), named absolutely
 * before the app runs: it may change directory while it loads (Next.js's standalone server
 * chdirs to its own folder).
 */
export function anchorPaths(config: Config, cwd: string = process.cwd()): Config {
  const abs = (p: string | null) => (p && p !== '-' ? resolve(cwd, p) : p);
  return {
    ...config,
    accessLogfile: abs(config.accessLogfile),
    errorLogfile: abs(config.errorLogfile) as Config['errorLogfile'],
    certfile: abs(config.certfile),
    keyfile: abs(config.keyfile),
    caCerts: abs(config.caCerts),
  };
}
