/**
 * The recommendation as a `corral.config.ts`. Fixed numbers, not a strategy: they were
 * measured on this machine, and the comment says so, with the evidence, so whoever reads the
 * file later knows where the numbers came from and when to measure again.
 */
import { label, type TuneSummary } from './results.ts';
import { bytes, ms, rate } from './units.ts';

/** Wraps `text` into `// ` comment lines of at most `width` characters. */
function comment(text: string, width = 98): string[] {
  const lines: string[] = [];
  let line = '//';
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > width && line !== '//') {
      lines.push(line);
      line = '//';
    }
    line += ` ${word}`;
  }
  if (line !== '//') lines.push(line);
  return lines;
}

export function configFile(s: TuneSummary): string | null {
  const rec = s.recommended;
  if (!rec) return null;
  const m = rec.candidate;
  const settings = [`  workerClass: '${m.workerClass}',`, `  workers: ${m.workers},`];
  if (m.workerClass === 'thread') settings.push(`  threads: ${m.threads},`);
  const header = [
    `Written by \`corral tune ${s.app}\` on ${s.date}: ${label(m)} served ${rate(m.rps)} req/s at p99 ${ms(m.p99)}${m.rssBytes === null ? '' : ` in ${bytes(m.rssBytes)}`}, measured on ${s.machine.cpus} CPUs with ${s.load.connections} connections on ${s.load.requests.join(', ')}.`,
    rec.withinBudget ? '' : 'No candidate met the budget: this is only the closest one.',
    `The counts are for this machine; on another, run corral tune again (or use workers: 'auto').`,
  ].join(' ');
  return [
    ...comment(header),
    `//`,
    ...comment(`Why: ${rec.why}`),
    `import { defineConfig } from 'corral';`,
    '',
    'export default defineConfig({',
    ...settings,
    '});',
    '',
  ].join('\n');
}
