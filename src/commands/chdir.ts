/** --chdir: enter the directory, or say in one line why it cannot be entered. */
import { invalid, type Resolved } from '../config/resolve.ts';

const WHY: Record<string, string> = {
  ENOENT: 'an existing directory (this one does not exist)',
  ENOTDIR: 'a directory (this is a file)',
  EACCES: 'a directory corral may enter (permission denied)',
};

export function enterChdir(r: Pick<Resolved, 'config' | 'sources'>): void {
  const dir = r.config.chdir;
  if (!dir) return;
  try {
    process.chdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw invalid(
      'chdir',
      r.sources.chdir,
      dir,
      WHY[code] ?? `a directory corral may enter (${code})`,
    );
  }
}
