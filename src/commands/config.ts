/** `corral config [APP]`: every resolved setting with its source; `--json` for machines. */
import type { Resolved } from '../config/resolve.ts';
import { SETTING_NAMES } from '../config/settings.ts';
import { describeSource, type SourceKind } from '../config/sources.ts';
import { workerCount } from '../sizing/workers.ts';

export interface ConfigReport {
  readonly settings: Record<string, { value: unknown; source: SourceKind; origin?: string }>;
  /** The number of worker processes that would be started (0 = single process). */
  readonly workers: number;
  readonly workersWhy: string;
  readonly configFile: string | null;
}

export function configReport(r: Resolved): ConfigReport {
  const settings: ConfigReport['settings'] = {};
  for (const name of SETTING_NAMES) {
    const s = r.sources[name];
    settings[name] = {
      value: r.config[name],
      source: s.kind,
      ...(s.origin ? { origin: s.origin } : {}),
    };
  }
  const { count, why } = workerCount(r.config);
  return { settings, workers: count, workersWhy: why, configFile: r.file };
}

export function formatConfig(r: Resolved): string {
  const report = configReport(r);
  const width = Math.max(...SETTING_NAMES.map((n) => n.length));
  const lines = SETTING_NAMES.map((name) => {
    const value = JSON.stringify(r.config[name]);
    return `${name.padEnd(width)}  ${value.padEnd(28)}  ${describeSource(r.sources[name])}`;
  });
  lines.push('', `workers to start: ${report.workers} (${report.workersWhy})`);
  if (report.configFile) lines.push(`config file: ${report.configFile}`);
  return lines.join('\n');
}
