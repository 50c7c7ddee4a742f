/** `corral check APP`: load the app once in this process and say what was found. */
import { resolve } from 'node:path';

import { loadFailure } from '../app/load.ts';
import { parseAppSpec } from '../app/spec.ts';
import type { Resolved } from '../config/resolve.ts';
import { AppLoadError } from '../errors.ts';
import { Logger } from '../log/logger.ts';
import { parseBind, tcpBindInfo } from '../master/listeners.ts';
import { alternativeEntry, loadServing } from '../worker/app-mode.ts';
import type { BindInfo } from '../worker/listen-mode.ts';
import { enterChdir } from './chdir.ts';
import { checkAppFile } from './serve.ts';

/** The first configured bind, as a listen-mode server's address() would report it. */
function firstBind(r: Resolved): BindInfo | null {
  const a = parseBind(r.config.bind[0] ?? '127.0.0.1:8000');
  if (a.kind === 'unix') return { path: a.path };
  if (a.kind !== 'tcp') return null;
  return tcpBindInfo(a.host, a.port);
}

/**
 * Runs the app as a worker would (a script runs; its listen() binds nothing) and waits up to
 * --boot-timeout for a script to call listen(). The caller exits afterwards: the app's own
 * handles (its server, timers) would keep this process alive.
 */
export async function check(r: Resolved): Promise<string> {
  enterChdir(r);
  const spec = checkAppFile(r);
  const log = new Logger({ level: 'warning', file: '-', role: 'check' });
  let waiting: string | null = null;
  let ended: AppLoadError | null = null;
  const loading = loadServing({
    spec,
    args: r.config.args,
    bind: firstBind(r),
    log,
    onWaiting: (why, endedError) => {
      waiting = why;
      ended = endedError;
    },
  });
  const limit = r.config.bootTimeout;
  const timer =
    limit > 0
      ? new Promise<never>((_, fail) =>
          setTimeout(
            () =>
              fail(
                new AppLoadError(
                  `corral: ${waiting ?? `${spec} did not finish loading`} within --boot-timeout ${limit} s`,
                ),
              ),
            limit * 1000,
          ).unref(),
        )
      : null;
  // The app's top-level code threw (an ES module's error arrives as uncaught), or its async
  // start-up rejected: that is the answer, as a worker would report it.
  const crashed = new Promise<never>((_, fail) => {
    const onError = (err: unknown) => fail(loadFailure(parseAppSpec(spec).file, err));
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
  });
  // Nothing but the app keeps this process alive: an event loop that runs dry while it waits
  // for listen() means nothing of it is left to call listen(). (Not so in a worker: its channel
  // to the master keeps it alive, and its way out, exit.ts, emits 'beforeExit' itself.)
  const dry = new Promise<never>((_, fail) => {
    process.on('beforeExit', () => {
      if (ended) fail(ended);
    });
  });
  const app = await Promise.race([loading, crashed, dry, ...(timer ? [timer] : [])]);
  if (app.listening) {
    const others = app.listening.servers.filter((s) => s.role !== 'primary');
    const also = others.length
      ? `; it also opened ${others.map((s) => `${s.role === 'alias' ? 'an alias server' : 'another server, not served'} (${s.asked})`).join(', ')}`
      : '';
    const alt = alternativeEntry(resolve(parseAppSpec(spec).file));
    return `ok: ${spec} is a ${app.description}: corral serves that server on its binds${also}${alt ? ` (${alt})` : ''}`;
  }
  const article = /^[aeiou]/i.test(app.description) ? 'an' : 'a';
  return `ok: ${spec} is ${article} ${app.description}`;
}
