/** `corral --help` and `corral COMMAND --help`, generated from the settings table. */
import type { Command } from '../config/argv.ts';
import { envNames, SETTING_NAMES, type Section, settings } from '../config/settings.ts';
import { tuneHelp } from '../tune/options.ts';

const USAGE = `corral — a pre-fork application server for Node.js and TypeScript

Usage:
  corral [serve] APP [options] [-- ARGS]  serve APP with a master and N workers
  corral check APP [options]       load APP once and report what it is
  corral config [APP] [options]    show every resolved setting and its source (--json, --explain)
  corral ctl status|reload|scale N|stop --socket PATH
                                   ask a running master (its --control-socket) for its status or an action
  corral top --socket PATH         a live view of a running master's workers
  corral tune APP [options]        measure APP under candidate configurations and recommend one
  corral COMMAND --help            that command's own help

APP is your app, unchanged: a script that calls listen() (server.js, .output/server/index.mjs),
run in each worker as "node APP ARGS" would, its server fed by corral on its binds; or a module
that exports a handler: path[:export] or path:factory(), e.g. app.ts, dist/server.js:app
Precedence: defaults < profile < config file < environment (CORRAL_*) < command line.`;

const SERVER_SETTINGS =
  'Server settings (-c, -e, --env-file, --node-args, --chdir, …) are read as for serve: corral --help lists them.';

const TUNE_TEXT = () => `Usage: corral tune APP [options]

Starts APP under candidate configurations (worker class, workers, threads), drives load at each
on 127.0.0.1, and prints throughput, p50/p99, errors and memory with a recommendation.
The load generator, autocannon, is an optional peer dependency: npm install --save-dev autocannon.

Options:
${tuneHelp()}
  --json                             print the candidates and the recommendation as JSON
  -k, -w, --threads                  narrow the search to that class, count or thread number

${SERVER_SETTINGS} They apply to every candidate. See docs/tune.md.`;

const COMMAND_TEXT: Record<Exclude<Command, 'serve' | 'tune'>, string> = {
  check: `Usage: corral check APP [options]

Loads APP once in this process, as a worker would, and says what it is (a fetch handler, an
Express app, …) or why it cannot be served. Serves nothing.

${SERVER_SETTINGS}`,
  config: `Usage: corral config [APP] [options]

Prints every resolved setting and where it came from (default, profile, config file,
environment, command line), and the worker count with its reason.

Options:
  --explain                          how each value was derived (the worker count in full) and the profiles
  --json                             the same as JSON

${SERVER_SETTINGS}`,
  ctl: `Usage: corral ctl COMMAND --socket PATH [--json]

Talks to a running master through its control socket (serve with --control-socket PATH).

Commands:
  status                             the master and every worker: state, requests, in flight, memory, ELU
  reload                             roll every worker, as HUP does
  scale N                            run N workers
  stop                               stop gracefully, as TERM does

Options:
  --socket PATH                      the master's control socket (or controlSocket in the config file)
  --json                             status as JSON`,
  top: `Usage: corral top --socket PATH

A live view of a running master's workers (state, requests per second, in flight, memory,
event-loop use), read from its control socket once a second. q or Ctrl+C quits.

Options:
  --socket PATH                      the master's control socket (or controlSocket in the config file)`,
};

/** `corral COMMAND --help`; the whole reference for serve (and no command). */
export function commandHelp(command: Command): string {
  if (command === 'serve') return helpText();
  if (command === 'tune') return TUNE_TEXT();
  return COMMAND_TEXT[command];
}

export function helpText(): string {
  const bySection = new Map<Section, string[]>();
  for (const name of SETTING_NAMES) {
    const s = settings[name];
    if (!s.flags.length) continue;
    const meta = s.type.boolean ? '' : ` ${s.type.meta}`;
    const flags = `${s.flags.join(', ')}${meta}`;
    const env = envNames(name).join(', ');
    const line = `  ${flags.padEnd(34)} ${s.doc}\n  ${''.padEnd(34)} default: ${JSON.stringify(s.defaultText ?? s.default)}; env: ${env}`;
    const list = bySection.get(s.section) ?? [];
    list.push(line);
    bySection.set(s.section, list);
  }
  const sections = [...bySection].map(([section, lines]) => `${section}:\n${lines.join('\n')}`);
  return [
    USAGE,
    ...sections,
    `Tune (corral tune APP; server settings given here apply to every candidate, -k/-w/--threads narrow the search):\n${tuneHelp()}\n  --json                             print the candidates and the recommendation as JSON`,
    'Other:\n  --json                             config: print JSON\n  --explain                          config: how each value was derived, and the profiles\n  -h, --help                         this help\n  -v, --version                      print the version',
  ].join('\n\n');
}
