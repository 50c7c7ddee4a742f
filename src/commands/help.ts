/** `corral --help`, generated from the settings table. */
import { envNames, SETTING_NAMES, type Section, settings } from '../config/settings.ts';
import { tuneHelp } from '../tune/options.ts';

const USAGE = `corral — a pre-fork application server for Node.js and TypeScript

Usage:
  corral [serve] APP [options]     serve APP with a master and N workers
  corral check APP [options]       load APP once and report what it is
  corral config [APP] [options]    show every resolved setting and its source (--json, --explain)
  corral tune APP [options]        measure APP under candidate configurations and recommend one

APP is path[:export] or path:factory(), e.g. app.ts, dist/server.js:app, app.mjs:createApp()
Precedence: defaults < profile < config file < environment (CORRAL_*) < command line.`;

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
