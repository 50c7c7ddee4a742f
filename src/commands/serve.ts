/** `corral [serve] APP`: resolve, bind, then run the master (or the single process). */
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadApp } from '../app/load.ts';
import { parseAppSpec } from '../app/spec.ts';
import type { Resolved } from '../config/resolve.ts';
import { AppLoadError, UsageError } from '../errors.ts';
import { runHook } from '../hooks.ts';
import { Logger } from '../log/logger.ts';
import { bindAll } from '../master/listeners.ts';
import { Master } from '../master/master.ts';
import { runSingle } from '../master/single.ts';
import { envPairs } from '../master/spawn.ts';
import { sizeForConfig } from '../sizing/workers.ts';
import { VERSION } from '../version.ts';

/** Checks that need no app code: the app is named and its file exists. */
export function checkAppFile(r: Resolved): string {
  const spec = r.config.app;
  if (!spec)
    throw new UsageError(
      'corral: no app given (usage: corral APP, e.g. corral app.ts; see corral --help)',
    );
  const file = parseAppSpec(spec).file;
  if (!existsSync(resolve(file))) {
    throw new AppLoadError(`corral: app file not found: ${file} (looked for ${resolve(file)})`);
  }
  return spec;
}

export async function serve(r: Resolved): Promise<number> {
  const c = r.config;
  if (c.chdir) process.chdir(c.chdir);
  Object.assign(process.env, envPairs(c));
  const log = new Logger({ level: c.logLevel, file: c.errorLogfile, role: 'master' });
  process.title = `corral: master [${c.app}]`;
  const spec = checkAppFile(r);
  // chdir and -e are applied above, so the probe (if sizing needs one) sees what workers will.
  const { count, why } = await sizeForConfig(c, { cwd: process.cwd(), env: process.env });
  await runHook(r.hooks, 'onStarting', log, { pid: process.pid, workers: count, binds: c.bind });
  if (c.preload && count > 0) {
    const app = await loadApp(spec);
    log.info(`preload: ${app.description} loads`);
  }
  const listeners = await bindAll(c.bind, c.backlog, count === 0 ? 'single' : c.dispatch);
  log.info(`Starting corral ${VERSION} (Node ${process.version})`);
  for (const l of listeners) log.info(`Listening at: ${l.url} (${process.pid})`);
  log.info(`App: ${spec}`);
  log.info(
    count === 0
      ? `Single process: ${why}`
      : `Workers: ${count} (${why}); class ${c.workerClass}; dispatch ${c.dispatch}`,
  );
  if (c.pid) writeFileSync(c.pid, `${process.pid}\n`);
  try {
    return count === 0
      ? await runSingle(r, listeners, log)
      : await new Master(r, listeners, count, log).run();
  } finally {
    if (c.pid && existsSync(c.pid)) unlinkSync(c.pid);
    log.info('Shutting down: master');
  }
}
