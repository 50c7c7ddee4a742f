/**
 * The framework apps in this folder: how each is built for production, its unchanged production
 * entry point, and its framework's own handler export. Shared by serve.spec.ts (the checks) and
 * bench.ts (throughput of the two side by side).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const BIN_DIR = join(HERE, 'node_modules', '.bin');

export interface Step {
  /** A bin of test/frameworks/node_modules/.bin. */
  bin: string;
  args: string[];
  env?: Record<string, string>;
}

export interface App {
  /** The framework, as its docs name it. */
  name: string;
  /** Its folder under test/frameworks/. */
  dir: string;
  /** Packages whose installed versions are reported. */
  packages: string[];
  /** The production build as the framework's docs give it, then the handler export's build. */
  build: Step[];
  /** The production entry point as `node ENTRY` would run it, relative to the app's folder. */
  entry: string;
  /** The entry's own arguments (for CLIs): `corral ENTRY … -- ARGS`. */
  args?: string[];
  /** The framework's own handler export (no listen()), as corral's APP argument. */
  handler: string;
}

export const APPS: App[] = [
  {
    name: 'Next.js (output: standalone)',
    dir: 'next',
    packages: ['next', 'react'],
    build: [{ bin: 'next', args: ['build'] }],
    // The apps share node_modules in test/frameworks/, Next's tracing root, so the standalone
    // server sits at .next/standalone/<app folder>/server.js.
    entry: '.next/standalone/next/server.js',
    handler: 'handler.mjs',
  },
  {
    name: 'NestJS',
    dir: 'nest',
    packages: ['@nestjs/core', '@nestjs/platform-express'],
    build: [{ bin: 'tsc', args: ['-p', '.'] }],
    entry: 'dist/main.js',
    handler: 'dist/handler.js:createApp()',
  },
  {
    name: 'Nitro (node-server preset)',
    dir: 'nitro',
    packages: ['nitropack'],
    build: [
      { bin: 'nitropack', args: ['build'] },
      { bin: 'nitropack', args: ['build'], env: { NITRO_PRESET: 'node-listener' } },
    ],
    entry: '.output/server/index.mjs',
    handler: '.output-listener/server/index.mjs:listener',
  },
  {
    name: 'SvelteKit + adapter-node',
    dir: 'sveltekit',
    packages: ['@sveltejs/kit', '@sveltejs/adapter-node', 'svelte', 'vite'],
    build: [{ bin: 'vite', args: ['build'] }],
    entry: 'build/index.js',
    handler: 'build/handler.js:handler',
  },
  {
    name: 'Astro + @astrojs/node standalone',
    dir: 'astro',
    packages: ['astro', '@astrojs/node'],
    build: [
      { bin: 'astro', args: ['build'] },
      { bin: 'astro', args: ['build'], env: { ASTRO_NODE_MODE: 'middleware' } },
    ],
    entry: 'dist/server/entry.mjs',
    handler: 'dist-middleware/server/entry.mjs:handler',
  },
  {
    name: 'React Router framework mode (react-router-serve)',
    dir: 'react-router',
    packages: ['react-router', '@react-router/serve'],
    build: [{ bin: 'react-router', args: ['build'] }],
    // What node_modules/.bin/react-router-serve links to.
    entry: '../node_modules/@react-router/serve/bin.cjs',
    args: ['./build/server/index.js'],
    handler: 'handler.mjs',
  },
];

/** FRAMEWORKS=next,nest picks apps by folder. */
export function pickedApps(): App[] {
  const picked = process.env.FRAMEWORKS?.split(',').filter(Boolean);
  return picked ? APPS.filter((a) => picked.includes(a.dir)) : APPS;
}

/** Telemetry off: the network reaches only the npm registry. */
export const QUIET_ENV = {
  NEXT_TELEMETRY_DISABLED: '1',
  ASTRO_TELEMETRY_DISABLED: '1',
  NUXT_TELEMETRY_DISABLED: '1',
};

/** PATH with this Node first (the bins' `#!/usr/bin/env node`) and the apps' bins. */
const toolEnv = {
  ...process.env,
  ...QUIET_ENV,
  PATH: [dirname(process.execPath), BIN_DIR, process.env.PATH ?? ''].join(delimiter),
  CI: '1',
};

/** Run a command to completion; throws with the tail of its output when it fails. */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeoutMs = 600_000,
): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...toolEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done();
      else
        fail(
          new Error(`${cmd} ${args.join(' ')} (in ${cwd}): ${code ?? signal}\n${out.slice(-4000)}`),
        );
    });
  });
}

/** `npm ci` in test/frameworks/ unless FRAMEWORKS_SKIP_INSTALL=1 and it is installed. */
export async function install(): Promise<void> {
  if (process.env.FRAMEWORKS_SKIP_INSTALL === '1' && existsSync(BIN_DIR)) return;
  await run('npm', ['ci', '--no-audit', '--no-fund'], HERE);
}

export async function buildApp(app: App): Promise<void> {
  for (const step of app.build)
    await run(join(BIN_DIR, step.bin), step.args, join(HERE, app.dir), step.env);
}

export function version(pkg: string): string {
  const file = join(HERE, 'node_modules', pkg, 'package.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
    : '?';
}

export function versions(app: App): string {
  return app.packages.map((p) => `${p} ${version(p)}`).join(', ');
}

/** A port free on 127.0.0.1 right now: the fixed `-b 127.0.0.1:P` a deployment would use. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}
