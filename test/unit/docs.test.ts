// The guides: every relative link and anchor points at something that exists, and every config
// file they show loads with corral's own resolver (a renamed setting fails here, not for users).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/config/resolve.ts';
import { HOOK_NAMES } from '../../src/hooks.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MARKER = '<!-- docs test: this block is loaded as corral.config.ts';

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'measurements' ? [] : markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

const DOCS = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];
/** The reading path (README → index → guides → deployment → migration): its links must hold. */
const GUIDES = DOCS.filter((f) =>
  /(^README|docs\/(README|getting-started|configuration|lifecycle|logging|deploy\/.*|migrate\/.*))\.md$/.test(
    relative(ROOT, f),
  ),
);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) {
      out.add(
        (m[1] as string)
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      );
    }
  }
  return out;
}

test('docs: every relative link and anchor in the guides resolves', () => {
  const broken: string[] = [];
  assert.ok(GUIDES.length >= 10, `${GUIDES.length} guides`);
  for (const file of GUIDES) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const abs = path ? resolve(dirname(file), path) : file;
      const where = `${relative(ROOT, file)} → ${target}`;
      let exists = false;
      try {
        exists = statSync(abs) !== undefined;
      } catch {}
      if (!exists) {
        broken.push(`${where} (no such file)`);
      } else if (anchor && abs.endsWith('.md') && !anchors(readFileSync(abs, 'utf8')).has(anchor)) {
        broken.push(`${where} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('docs: the config files the guides show load, with their hooks', async () => {
  let blocks = 0;
  const index = join(ROOT, 'src/index.ts');
  for (const file of DOCS) {
    const text = readFileSync(file, 'utf8');
    for (const part of text.split(MARKER).slice(1)) {
      const code = /```ts\n([\s\S]*?)```/.exec(part)?.[1];
      assert.ok(code, `${relative(ROOT, file)}: a ts block follows the marker`);
      const dir = mkdtempSync(join(tmpdir(), 'corral-docs-'));
      writeFileSync(
        join(dir, 'corral.config.ts'),
        code.replace("from 'corral'", `from '${index}'`),
      );
      const r = await resolveConfig({ cwd: dir, env: {} });
      assert.equal(r.file, join(dir, 'corral.config.ts'));
      const named = [...code.matchAll(/^ {2}(\w+)[:(]/gm)].map((m) => m[1] as string);
      for (const name of named) {
        if ((HOOK_NAMES as readonly string[]).includes(name)) {
          assert.equal(typeof r.hooks[name as keyof typeof r.hooks], 'function', name);
        } else {
          assert.equal(
            r.sources[name as keyof typeof r.sources]?.kind,
            'file',
            `${name} is a setting`,
          );
        }
      }
      blocks++;
    }
  }
  assert.ok(blocks >= 3, `${blocks} config blocks checked`);
});
