/** Single-process mode (`-w 0` / `--single`): the master serves the app itself. */
import { closeApp } from '../app/close.ts';
import type { Resolved } from '../config/resolve.ts';
import { loadWire, type TlsFiles } from '../config/tls.ts';
import { EXIT } from '../errors.ts';
import { runHook, type ServerInfo } from '../hooks.ts';
import type { Logger } from '../log/logger.ts';
import { decideUpgrades, loadServing } from '../worker/app-mode.ts';
import { buildAppServer } from '../worker/serve.ts';
import { monotonic } from './clock.ts';
import { bindInfo, type Listener } from './listeners.ts';
import type { SystemdNotify } from './notify.ts';
import { trapSignals } from './signals.ts';
import { NO_PRETENURING, ourV8Options } from './worker-v8-options.ts';

export async function runSingle(
  r: Resolved,
  listeners: readonly Listener[],
  log: Logger,
  notify: SystemdNotify | null = null,
  tlsFiles: TlsFiles | null = null,
): Promise<number> {
  // The app runs here as under `node APP` (a script's listen() is served on corral's binds),
  // with V8's own young generation: bin/corral.js keeps a master's small.
  const v8 = process.getBuiltinModule('node:v8');
  if ((process as unknown as Record<symbol, unknown>)[Symbol.for('corral.youngGenerationCapped')]) {
    v8.setFlagsFromString('--semi-space-growth-factor=2');
  }
  // As in workers (worker-v8-options.ts): request objects die young. (Their young-generation
  // floor cannot be set here: V8 sizes it when the process starts.)
  if (ourV8Options(process.execArgv, r.config.workerClass).includes(NO_PRETENURING)) {
    v8.setFlagsFromString(NO_PRETENURING);
  }
  const app = await loadServing({
    spec: r.config.app ?? '',
    args: r.config.args,
    bind: bindInfo(listeners[0]),
    log,
  });
  const me = { pid: process.pid, id: 0 };
  const server = buildAppServer(r.config, app.listener, log, {
    hooks: r.hooks,
    worker: me,
    upgrade: app.upgrade,
    tlsFiles,
  });
  decideUpgrades(app, server.http);
  for (const l of listeners) l.server?.on('connection', (s) => server.adopt(s));
  const info: ServerInfo = { pid: process.pid, workers: 0, binds: listeners.map((l) => l.url) };
  await runHook(r.hooks, 'postWorkerInit', log, me);
  log.info(`ready: serving ${app.description} from the master (single-process mode)`);
  await runHook(r.hooks, 'whenReady', log, info);
  notify?.ready('serving from the master (single-process mode)');
  return new Promise((done) => {
    let stopping = false;
    const untrap = trapSignals((action, sig) => {
      log.info(`received ${sig}`);
      if (action === 'stop' && !stopping) {
        stopping = true;
        notify?.stopping('stopping');
        for (const l of listeners) l.server?.close();
        const graceMs = r.config.gracefulTimeout * 1000;
        const deadline = monotonic() + graceMs;
        const grace = setTimeout(() => {
          log.warning(`${server.inFlight} request(s) still in flight at the graceful timeout`);
          finish();
        }, graceMs);
        server
          .drain()
          .then(() => closeApp(app.close, deadline - monotonic(), log))
          .then(() => {
            clearTimeout(grace);
            finish();
          });
      } else if (action === 'quick-stop') {
        if (!stopping) notify?.stopping('stopping (quick)');
        finish();
      } else if (action === 'reload' && r.config.certfile) {
        // Workers pick up renewed certificates when a HUP rolls them; here nothing rolls, so
        // re-read them in place. A bad file changes nothing: the old ones keep serving.
        try {
          const { tls } = loadWire(r.config);
          if (tls && server.setSecureContext(tls)) {
            log.info(`reload: TLS certificate re-read from ${r.config.certfile}`);
          }
        } catch (err) {
          log.error(`reload failed, nothing changed: ${(err as Error).message}`);
        }
      } else if (action !== 'stop') {
        log.info(`${sig} has no effect in single-process mode`);
      }
    });
    let finished = false;
    const finish = () => {
      // The graceful timeout and the end of the drain may both get here: stop once.
      if (finished) return;
      finished = true;
      untrap();
      app.listening?.closeAll();
      for (const l of listeners) l.close();
      void runHook(r.hooks, 'onExit', log, info).then(() => done(EXIT.OK));
    };
  });
}
