// Regenerate docs/settings.md from the settings table: `npm run docs`.
import { writeFileSync } from 'node:fs';
import { settingsMarkdown } from '../src/config/docs.ts';

const target = new URL('../docs/settings.md', import.meta.url);
writeFileSync(target, settingsMarkdown());
process.stdout.write(`wrote ${target.pathname}\n`);
