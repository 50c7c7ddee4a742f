/** The master's pid file. On USR2 it moves aside to `.oldbin` so the new master can take the name. */
import { existsSync, renameSync, unlinkSync, writeFileSync } from '../fs.ts';

export class PidFile {
  #path: string | null;

  constructor(path: string | null) {
    this.#path = path;
  }

  get path(): string | null {
    return this.#path;
  }

  write(): void {
    if (this.#path) writeFileSync(this.#path, `${process.pid}\n`);
  }

  /** Rename to `.oldbin`, keep owning that name. */
  moveAside(): void {
    if (!this.#path || this.#path.endsWith('.oldbin')) return;
    const aside = `${this.#path}.oldbin`;
    if (existsSync(this.#path)) renameSync(this.#path, aside);
    this.#path = aside;
  }

  /** Best effort: after a privilege drop (-w 0 --user) its directory may not be ours to write. */
  remove(): void {
    try {
      if (this.#path && existsSync(this.#path)) unlinkSync(this.#path);
    } catch {
      // Left behind; the next start overwrites it.
    }
  }
}
