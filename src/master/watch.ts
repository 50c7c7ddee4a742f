/**
 * `--reload`: watch the app's source tree (and `--reload-extra-files`) and report changes in
 * debounced batches; the master answers each batch with its HUP reload (a rolling,
 * replacement-first, fail-closed restart of every worker).
 *
 * One `fs.watch` per directory, not Node's recursive `fs.watch`: on Linux that one watches every
 * file separately and stays on the old inode when an editor saves by renaming a temp file over
 * the original, so every later save of that file went unseen (measured with Node 24.21; see
 * bench/watch.ts and docs/measurements/). Directory watches see each save however it is
 * written, and cost one inotify watch per directory instead of one per file. Against chokidar 6
 * (bench/watch-chokidar.ts, docs/benchmarks.md): the same saves seen, the same watches, a fifth
 * of the import time and 2.4 MiB of master RSS instead of 11.4 MiB.
 */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { type Dirent, type FSWatcher, readdirSync, statSync, watch } from '../fs.ts';

/** Directories never worth watching: dependencies change through installs, not edits. */
const SKIP_DIRS = new Set(['node_modules', '.git']);

/**
 * In the source tree, only files Node loads as modules trigger a reload (nodemon's default
 * rule). Logs, databases and uploads an app writes next to its code must not restart it in a
 * loop; other files that matter (templates, .env) are named with --reload-extra-files.
 */
const SOURCE_EXTENSIONS = new Set([
  '.js',
  '.mjs',
  '.cjs',
  '.ts',
  '.mts',
  '.cts',
  '.jsx',
  '.tsx',
  '.json',
]);

/** Editor swap and backup files change while you type, not when you save. */
function isEditorScratch(name: string): boolean {
  return name.endsWith('~') || name.startsWith('.#') || /\.sw[a-p]$/.test(name) || name === '4913';
}

export interface WatchOptions {
  /** Source trees, watched recursively for module files (the app's directory). */
  readonly trees: readonly string[];
  /** Single files or directories (every file in them) that also trigger a reload. */
  readonly extra: readonly string[];
  /** Quiet time after the last change before a batch is reported. */
  readonly debounceMs: number;
  readonly onChange: (paths: readonly string[]) => void;
  readonly onError?: (message: string) => void;
}

/** What a watched directory reports: module files under a tree, or named entries / all. */
type Interest = { tree: boolean; names: Set<string>; all: boolean };

export class ChangeWatcher {
  readonly #o: WatchOptions;
  readonly #dirs = new Map<string, { watcher: FSWatcher; interest: Interest }>();
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(o: WatchOptions) {
    this.#o = o;
    for (const tree of o.trees) this.#walk(resolve(tree));
    for (const path of o.extra.map((p) => resolve(p))) {
      if (isDirectory(path)) this.#interest(path).all = true;
      else this.#interest(dirname(path)).names.add(basename(path));
    }
  }

  /** How many directories are watched (one inotify watch each on Linux). */
  get directories(): number {
    return this.#dirs.size;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const { watcher } of this.#dirs.values()) watcher.close();
    this.#dirs.clear();
  }

  /** Watch `dir` and the directories under it; returns how many module files they hold. */
  #walk(dir: string): number {
    if (this.#closed || !isDirectory(dir)) return 0;
    this.#interest(dir).tree = true;
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      this.#o.onError?.(`reload: cannot list ${dir}: ${(err as Error).message}`);
    }
    let sources = 0;
    for (const e of entries) {
      // Symlinked directories are not followed: they can loop, and often point at builds.
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) sources += this.#walk(join(dir, e.name));
      else if (e.isFile() && SOURCE_EXTENSIONS.has(extname(e.name))) sources++;
    }
    return sources;
  }

  /** The watch on `dir`, started on first use. */
  #interest(dir: string): Interest {
    const known = this.#dirs.get(dir);
    if (known) return known.interest;
    const interest: Interest = { tree: false, names: new Set(), all: false };
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name) this.#seen(dir, interest, name.toString());
      });
      // A watched directory that is deleted or becomes unreadable just stops reporting.
      watcher.on('error', () => this.#forget(dir));
      this.#dirs.set(dir, { watcher, interest });
    } catch (err) {
      this.#o.onError?.(`reload: cannot watch ${dir}: ${(err as Error).message}`);
    }
    return interest;
  }

  #forget(dir: string): void {
    this.#dirs.get(dir)?.watcher.close();
    this.#dirs.delete(dir);
  }

  #seen(dir: string, interest: Interest, name: string): void {
    if (this.#closed || isEditorScratch(name)) return;
    const path = join(dir, name);
    let wanted = interest.all || interest.names.has(name);
    if (interest.tree && !SKIP_DIRS.has(name)) {
      if (isDirectory(path)) {
        // A new or moved-in directory: watch it; it is a change if it brings module files.
        if (!this.#dirs.has(path) && this.#walk(path) > 0) wanted = true;
      } else if (SOURCE_EXTENSIONS.has(extname(name))) {
        wanted = true;
      }
    }
    if (!wanted) return;
    this.#pending.add(path);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#flush(), this.#o.debounceMs);
  }

  #flush(): void {
    this.#timer = null;
    if (this.#closed || this.#pending.size === 0) return;
    const paths = [...this.#pending];
    this.#pending.clear();
    this.#o.onChange(paths);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
