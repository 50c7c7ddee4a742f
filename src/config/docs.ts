/** docs/settings.md, generated from the settings table (a test fails when it is stale). */
import { CONFIG_FILE_NAMES } from './file.ts';
import { PROFILE_NAMES, PROFILES } from './profiles.ts';
import { envNames, SETTING_NAMES, type Section, settings } from './settings.ts';

function code(s: string): string {
  return `\`${s}\``;
}

export function settingsMarkdown(): string {
  const out: string[] = [
    '# Settings reference',
    '',
    '<!-- Generated from src/config/settings.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every setting can be given, from lowest to highest precedence, as a default, by a',
    '[profile](#profiles) (`--profile NAME`), in the config file',
    `(${CONFIG_FILE_NAMES.map(code).join(', ')}, or \`-c FILE\`), as an environment variable, or`,
    'on the command line. `corral config` shows the value each one resolved to and where it came',
    'from (`--explain` adds how the worker count was derived); a bad value stops corral with one',
    'line naming the setting, its source, the value and what is allowed (exit code 2).',
    '',
    'In a config file, settings use the names below:',
    '',
    '```ts',
    "import { defineConfig } from 'corral';",
    '',
    'export default defineConfig({',
    '  workers: 4,',
    "  bind: ['0.0.0.0:8080'],",
    '  maxRequests: 1000,',
    '  maxRequestsJitter: 50,',
    '  whenReady(server) {',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: this is TypeScript shown in the docs
    "    console.log(`serving on ${server.binds.join(', ')}`);",
    '  },',
    '});',
    '```',
    '',
  ];
  const sections = new Map<Section, string[]>();
  for (const name of SETTING_NAMES) {
    const s = settings[name];
    const lines = [
      `### ${code(name)}`,
      '',
      s.doc,
      '',
      `- Command line: ${s.flags.length ? s.flags.map(code).join(', ') : name === 'app' ? 'the first argument' : name === 'args' ? 'everything after `--`' : '—'}`,
      `- Environment: ${envNames(name).map(code).join(', ')}`,
      `- Default: ${code(JSON.stringify(s.defaultText ?? s.default))}`,
      `- Allowed: ${s.type.describe}${s.type.repeatable ? ' (the flag may repeat)' : ''}`,
    ];
    if (s.notes) lines.push('', s.notes);
    lines.push('');
    const list = sections.get(s.section) ?? [];
    list.push(lines.join('\n'));
    sections.set(s.section, list);
  }
  for (const [section, entries] of sections) out.push(`## ${section}`, '', ...entries);
  out.push(...profilesMarkdown());
  return `${out.join('\n').trimEnd()}\n`;
}

function profilesMarkdown(): string[] {
  const out = [
    '## Profiles',
    '',
    'A profile presets some settings. Its values sit just above the defaults: the config file, the',
    'environment and the command line override any of them, and `corral config` shows',
    '`profile NAME` as the source of each value a profile gave. See docs/sizing.md for where each',
    'one comes from.',
    '',
  ];
  for (const name of PROFILE_NAMES) {
    const p = PROFILES[name];
    out.push(`### ${code(name)}`, '', p.summary, '');
    for (const [key, value] of Object.entries(p.values)) {
      out.push(`- ${code(key)}: ${code(JSON.stringify(value))}`);
    }
    out.push('');
  }
  return out;
}
