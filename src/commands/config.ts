/**
 * `corral config [APP]`: every resolved setting with its source and the worker count that
 * would start; `--json` for machines, `--explain` for the derivation and the profiles.
 */
import { PROFILE_NAMES, PROFILES } from '../config/profiles.ts';
import type { Resolved } from '../config/resolve.ts';
import { SETTING_NAMES } from '../config/settings.ts';
import { describeSource, type SourceKind } from '../config/sources.ts';
import { bytes } from '../sizing/explain.ts';
import type { Resource } from '../sizing/resources.ts';
import { ROOMY_WORKER_BYTES } from '../sizing/strategies.ts';
import type { Sizing } from '../sizing/workers.ts';

export interface ConfigReport {
  readonly settings: Record<string, { value: unknown; source: SourceKind; origin?: string }>;
  /** The number of worker processes that would be started (0 = single process). */
  readonly workers: number;
  readonly workersWhy: string;
  /** How `workers` was derived, as data. */
  readonly sizing: Sizing;
  readonly configFile: string | null;
}

export function configReport(r: Resolved, sizing: Sizing): ConfigReport {
  const settings: ConfigReport['settings'] = {};
  for (const name of SETTING_NAMES) {
    const s = r.sources[name];
    settings[name] = {
      value: r.config[name],
      source: s.kind,
      ...(s.origin ? { origin: s.origin } : {}),
    };
  }
  return {
    settings,
    workers: sizing.count,
    workersWhy: sizing.why,
    sizing,
    configFile: r.file,
  };
}

function settingLines(r: Resolved): string[] {
  const width = Math.max(...SETTING_NAMES.map((n) => n.length));
  return SETTING_NAMES.map((name) => {
    const value = JSON.stringify(r.config[name]);
    return `${name.padEnd(width)}  ${value.padEnd(28)}  ${describeSource(r.sources[name])}`;
  });
}

export function formatConfig(r: Resolved, sizing: Sizing): string {
  const lines = settingLines(r);
  lines.push('', `workers to start: ${sizing.count} (${sizing.why})`);
  if (r.file) lines.push(`config file: ${r.file}`);
  return lines.join('\n');
}

function candidateLines(title: string, res: Resource, show: (n: number) => string): string[] {
  const lines = [`${title} (the smallest wins):`];
  for (const c of res.candidates) {
    const mark = c.source === res.source ? '*' : ' ';
    const where = c.file ? `  ${c.file}` : '';
    lines.push(`  ${mark} ${c.source.padEnd(20)} ${show(c.value).padEnd(10)} ${c.detail}${where}`);
  }
  return lines;
}

function profileLines(r: Resolved): string[] {
  const lines = [
    'Profiles (--profile NAME; above the defaults, below the config file, environment and command line):',
  ];
  for (const name of PROFILE_NAMES) {
    const p = PROFILES[name];
    const active = r.config.profile === name ? '  ← active' : '';
    const values = Object.entries(p.values)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    lines.push(`  ${name}${active}`, `    ${values}`, `    ${p.summary}`);
  }
  return lines;
}

/** `--explain`: settings and sources, the workers derivation, what it was read from, profiles. */
export function explainConfig(r: Resolved, sizing: Sizing): string {
  const lines = [...settingLines(r), '', `workers = ${sizing.count}  (${sizing.why})`];
  if (sizing.cpus) {
    lines.push('', `cgroup layout: ${sizing.layout}`);
    lines.push(...candidateLines('CPUs', sizing.cpus, (n) => String(Math.round(n * 100) / 100)));
  }
  const m = sizing.memory;
  if (m) {
    lines.push(...candidateLines('memory', m.limit, bytes));
    lines.push(
      m.measured && m.perWorkerRssBytes !== null
        ? `  one worker measured: ${m.perWorkerPrivateBytes === null ? '' : `${bytes(m.perWorkerPrivateBytes)} private, `}${bytes(m.perWorkerRssBytes)} RSS (${m.measuredWhat})`
        : `  no worker measured: the budget is roomy (auto measures below ${bytes(ROOMY_WORKER_BYTES)} per worker)`,
    );
  }
  if (r.file) lines.push('', `config file: ${r.file}`);
  lines.push('', ...profileLines(r));
  return lines.join('\n');
}
