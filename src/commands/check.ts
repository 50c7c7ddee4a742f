/** `corral check APP`: load the app once in this process and say what was found. */
import { loadApp } from '../app/load.ts';
import type { Resolved } from '../config/resolve.ts';
import { checkAppFile } from './serve.ts';

export async function check(r: Resolved): Promise<string> {
  if (r.config.chdir) process.chdir(r.config.chdir);
  const spec = checkAppFile(r);
  const app = await loadApp(spec);
  const article = /^[aeiou]/i.test(app.description) ? 'an' : 'a';
  return `ok: ${spec} is ${article} ${app.description} (${app.path})`;
}
