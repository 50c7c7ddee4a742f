/**
 * Probe entry: a child started like a worker (same Node, execArgv, cwd and env) that loads the
 * app and builds the worker's HTTP server around it the way a worker does, then reports its
 * memory, so memory sizing uses what one worker of *this* app costs. It binds nothing, serves
 * nothing, and exits once it has reported.
 */
import { loadApp } from '../app/load.ts';
import type { Config } from '../config/settings.ts';
import { bootExitCode } from '../errors.ts';
import { readFileSync } from '../fs.ts';
import { Logger } from '../log/logger.ts';
import { buildAppServer } from '../worker/serve.ts';
import type { ProbeReport } from './measure.ts';

function report(msg: ProbeReport): void {
  // Exit once the message is out: the app may hold timers or sockets open.
  if (process.send) process.send(msg, () => process.exit(0));
  else process.exit(1);
}

/**
 * Memory only this process holds (Linux RssAnon + RssShmem): what one more worker adds to a
 * cgroup's charge. The rest of RSS is file pages (the node binary, libraries) that every
 * worker maps and the cgroup charges once. Null where /proc is not there.
 */
function privateBytes(): number | null {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const n = kb('RssAnon') + (kb('RssShmem') || 0);
    return Number.isFinite(n) ? n * 1024 : null;
  } catch {
    return null;
  }
}

try {
  const config = JSON.parse(process.argv[2] ?? '{}') as Config;
  let what = 'a bare worker (no app given)';
  if (config.app) {
    const app = await loadApp(config.app, process.cwd());
    const log = new Logger({ level: 'critical', file: '-', role: 'probe' });
    buildAppServer(config, app.listener, log, { hooks: {}, worker: { pid: process.pid, id: 0 } });
    what = `${config.app}, a ${app.description}`;
  }
  // Let work the app scheduled for the next turn (lazy inits, warm-ups) run first.
  await new Promise((r) => setTimeout(r, 50));
  report({ t: 'rss', rssBytes: process.memoryUsage.rss(), privateBytes: privateBytes(), what });
} catch (err) {
  const code = bootExitCode(err);
  report({ t: 'failed', message: (err as Error).message ?? String(err), code });
}
