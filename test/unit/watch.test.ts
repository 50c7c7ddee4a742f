// The --reload watcher on a real directory tree: which changes count, and how they batch.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChangeWatcher } from '../../src/master/watch.ts';

/**
 * A watcher on a fresh project tree (the app's directory holds node_modules and .git, as when
 * the app file sits at the project root); `next()` resolves with the next batch of changes.
 */
function setup() {
  const root = mkdtempSync(join(tmpdir(), 'corral-watch-'));
  for (const dir of ['src/lib', 'node_modules/dep', '.git', 'views']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, 'src/lib/util.ts'), 'export const v = 0;\n');
  writeFileSync(join(root, 'views/page.html'), '<p>0</p>\n');
  const batches: (readonly string[])[] = [];
  let wake: (() => void) | null = null;
  const watcher = new ChangeWatcher({
    trees: [root],
    extra: [join(root, 'views'), join(root, '.env')],
    debounceMs: 100,
    onChange: (paths) => {
      batches.push([...paths].sort());
      wake?.();
    },
  });
  // The watcher does not keep the event loop alive (a master has its sockets for that): a
  // timer does while a test waits, and fails the wait if no batch comes.
  const next = async (): Promise<readonly string[]> => {
    while (!batches.length) {
      await new Promise<void>((r, fail) => {
        const timer = setTimeout(() => fail(new Error('no batch of changes within 10 s')), 10_000);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
    }
    return batches.shift() as readonly string[];
  };
  return { root, watcher, next, at: (p: string) => join(root, p) };
}

test('a burst of saves is one batch; atomic saves are seen every time', async () => {
  const { watcher, next, at } = setup();
  try {
    writeFileSync(at('src/lib/util.ts'), 'export const v = 1;\n');
    writeFileSync(at('src/index.ts'), 'export {};\n');
    assert.deepEqual(await next(), [at('src/index.ts'), at('src/lib/util.ts')]);
    // Write a temp file, rename it over the original: twice (the second is what Node's
    // recursive fs.watch misses on Linux).
    for (const v of [2, 3]) {
      writeFileSync(at('src/lib/.util.ts.tmp'), `export const v = ${v};\n`);
      renameSync(at('src/lib/.util.ts.tmp'), at('src/lib/util.ts'));
      assert.deepEqual(await next(), [at('src/lib/util.ts')], `atomic save ${v}`);
    }
  } finally {
    watcher.close();
  }
});

test('only module files count in the tree; node_modules, .git, swap files and logs do not', async () => {
  const { watcher, next, at } = setup();
  try {
    // Each of these, if it counted, would land in the same batch as the real change after it.
    writeFileSync(at('node_modules/dep/index.js'), 'x');
    writeFileSync(at('.git/index.js'), 'x');
    writeFileSync(at('src/.util.ts.swp'), 'x');
    writeFileSync(at('src/app.log'), 'GET / 200\n');
    writeFileSync(at('src/data.db'), 'x');
    mkdirSync(at('src/uploads'));
    writeFileSync(at('src/lib/util.ts'), 'export const v = 4;\n');
    assert.deepEqual(await next(), [at('src/lib/util.ts')]);
  } finally {
    watcher.close();
  }
});

test('extra files and directories count whatever their type; new source directories are watched', async () => {
  const { watcher, next, at } = setup();
  try {
    writeFileSync(at('views/page.html'), '<p>1</p>\n');
    assert.deepEqual(await next(), [at('views/page.html')]);
    writeFileSync(at('.env'), 'A=1\n');
    assert.deepEqual(await next(), [at('.env')]);
    mkdirSync(at('src/routes'));
    writeFileSync(at('src/routes/a.ts'), 'export {};\n');
    const batch = await next();
    assert.ok(
      batch.includes(at('src/routes')) || batch.includes(at('src/routes/a.ts')),
      `${batch}`,
    );
    // Once a new directory is watched, edits inside it count.
    writeFileSync(at('src/routes/a.ts'), 'export const a = 1;\n');
    assert.deepEqual(await next(), [at('src/routes/a.ts')]);
    assert.ok(watcher.directories >= 4);
  } finally {
    watcher.close();
  }
});
