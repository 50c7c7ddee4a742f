/**
 * App spec → module → a Node request listener. Explicit exports first, then shape detection;
 * when nothing fits, the error says what was found.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppLoadError } from '../errors.ts';
import { existsSync, statSync } from '../fs.ts';
import { type AppCloser, closerOf } from './close.ts';
import type { FetchHandler } from './fetch.ts';
import { formatAppSpec, parseAppSpec } from './spec.ts';
import type { UpgradeListener } from './upgrade.ts';

export type AppKind = 'listener' | 'express' | 'koa' | 'fastify' | 'fetch';

export interface LoadedApp {
  readonly kind: AppKind;
  readonly listener: RequestListener;
  /** The module's `upgrade` export (WebSocket and other upgrades), if it has one. */
  readonly upgrade: UpgradeListener | null;
  /** Absolute path of the module. */
  readonly path: string;
  /** e.g. `fetch handler (default export)`. */
  readonly description: string;
  /** Closes the app when its worker drains (Fastify, a factory's close()); null: nothing to close. */
  readonly close: AppCloser | null;
}

const KIND_TEXT: Record<AppKind, string> = {
  listener: '(req, res) listener',
  express: 'Express app',
  koa: 'Koa app',
  fastify: 'Fastify instance',
  fetch: 'fetch handler',
};

const EXPECTED =
  'expected a (req, res) listener, a fetch handler ({ fetch } or (request) => Response), an Express/Koa app, a Fastify instance, or a factory named as FILE:factory()';

type Obj = Record<string | symbol, unknown>;

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'function') return `a function of ${v.length} parameter(s)`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).slice(0, 8);
    return `an object with ${keys.length ? `keys ${keys.join(', ')}` : 'no own keys'}`;
  }
  return `a ${typeof v} (${String(v).slice(0, 40)})`;
}

/** Classify a value as one of the app shapes; null when it is none of them. */
export async function toListener(
  value: unknown,
): Promise<{ kind: AppKind; listener: RequestListener } | null> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return null;
  const v = value as Obj;
  // Fastify: routing() is its request handler once ready() has run.
  if (typeof v.routing === 'function' && typeof v.ready === 'function' && 'server' in v) {
    await (v.ready as () => Promise<unknown>).call(v);
    const routing = v.routing as RequestListener;
    return { kind: 'fastify', listener: (req, res) => routing.call(v, req, res) };
  }
  // Koa: callback() builds the listener.
  if (
    typeof v.callback === 'function' &&
    typeof v.use === 'function' &&
    Array.isArray(v.middleware)
  ) {
    return { kind: 'koa', listener: (v.callback as () => RequestListener).call(v) };
  }
  if (typeof v.fetch === 'function') {
    const fetch = (v.fetch as FetchHandler).bind(v);
    return { kind: 'fetch', listener: await fetchListener(fetch) };
  }
  if (typeof value === 'function') {
    if (typeof v.handle === 'function' && typeof v.listen === 'function') {
      return { kind: 'express', listener: value as RequestListener };
    }
    // (req, res) takes two or more parameters; (request) => Response takes at most one. A
    // rest parameter counts for none: `async (...args) => …` is Node middleware's shape
    // (Astro's handler takes req, res, next), so it is a (req, res) listener.
    if (value.length >= 2 || takesRest(value as (...args: never) => unknown)) {
      return { kind: 'listener', listener: value as RequestListener };
    }
    return { kind: 'fetch', listener: await fetchListener(value as FetchHandler) };
  }
  return null;
}

/** A function whose parameter list starts with a rest parameter: `(...args)`. */
export function takesRest(fn: (...args: never) => unknown): boolean {
  if (fn.length !== 0) return false;
  const src = Function.prototype.toString.call(fn);
  // The parameter list is the first parenthesis of a function, method or arrow.
  return /^[^(]*\(\s*\.\.\./.test(src);
}

/** The bridge loads undici's Request and Response (~15 MiB): only for fetch apps. */
async function fetchListener(fetch: FetchHandler): Promise<RequestListener> {
  return (await import('./fetch.ts')).fetchListener(fetch);
}

/** The app file's absolute path; a clear error when it is not there. */
export function appPath(spec: string, cwd: string = process.cwd()): string {
  const parsed = parseAppSpec(spec);
  const path = resolve(cwd, parsed.file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new AppLoadError(`corral: app file not found: ${parsed.file} (looked for ${path})`);
  }
  return path;
}

/** The first line of a load error, for `failed to load: …`. */
export function loadFailure(file: string, err: unknown): AppLoadError {
  const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new AppLoadError(`corral: app ${file} failed to load: ${why}`);
}

/** Import the module and take its handler (threads, --preload, single process, check). */
export async function loadApp(spec: string, cwd: string = process.cwd()): Promise<LoadedApp> {
  const path = appPath(spec, cwd);
  let mod: Obj;
  try {
    mod = (await import(pathToFileURL(path).href)) as Obj;
  } catch (err) {
    throw loadFailure(parseAppSpec(spec).file, err);
  }
  const app = await appFromModule(mod, spec, path);
  if ('noHandler' in app) {
    throw new AppLoadError(
      `corral: ${parseAppSpec(spec).file} ${app.noHandler}; ${EXPECTED}, or a script that calls listen() on an HTTP server`,
    );
  }
  return app;
}

/** A module that exports no handler (a script that calls listen(), or a mistake): why not. */
export interface NoHandler {
  /** e.g. `has no default export; found exports: host, path, port, server`. */
  readonly noHandler: string;
}

/**
 * The handler a loaded module exports. An export named in the spec must be one (else an
 * error); without a name, the default export (or `app`, `fetch`) is taken when it has a
 * handler's shape, and anything else is NoHandler: the module may be a script that listens.
 */
export async function appFromModule(
  mod: Obj,
  spec: string,
  path: string,
): Promise<LoadedApp | NoHandler> {
  const parsed = parseAppSpec(spec);
  const exportNames = Object.keys(mod);
  const found = exportNames.length
    ? `found exports: ${exportNames.join(', ')}`
    : 'it has no exports';
  let name = parsed.exportName;
  const named = name !== null;
  if (!name) {
    name = 'default' in mod ? 'default' : (['app', 'fetch'].find((n) => n in mod) ?? null);
    if (!name) return { noHandler: `has no default export; ${found}` };
  } else if (!(name in mod)) {
    throw new AppLoadError(`corral: ${parsed.file} has no export named ${name}; ${found}`);
  }
  let value: unknown = mod[name];
  const where = `${name === 'default' ? 'default export' : `export ${name}`} of ${parsed.file}`;
  if (parsed.call) {
    if (typeof value !== 'function') {
      throw new AppLoadError(
        `corral: ${where} is not a factory function: it is ${describeValue(value)}`,
      );
    }
    try {
      value = await (value as () => unknown)();
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new AppLoadError(`corral: factory ${formatAppSpec(parsed)} threw: ${why}`);
    }
  }
  const shaped = await toListener(value);
  if (!shaped) {
    const got = parsed.call ? `${formatAppSpec(parsed)} returned` : `${where} is`;
    if (!named) {
      return {
        noHandler: `exports no handler: its ${where.split(' of ')[0]} is ${describeValue(value)}`,
      };
    }
    throw new AppLoadError(`corral: ${got} ${describeValue(value)}; ${EXPECTED}`);
  }
  const upgrade = upgradeExport(mod, parsed.file);
  const source = parsed.call ? formatAppSpec(parsed) : where;
  return {
    ...shaped,
    upgrade,
    path,
    close: closerOf(value, { fastify: shaped.kind === 'fastify', factory: parsed.call }),
    description: `${KIND_TEXT[shaped.kind]} (${source})${upgrade ? ' with an upgrade listener (export upgrade)' : ''}`,
  };
}

/**
 * The upgrade listener is a named export of the module, whatever the app export is (a value,
 * an instance or a factory), so every app shape reaches its server the same way.
 */
function upgradeExport(mod: Obj, file: string): UpgradeListener | null {
  const value = mod.upgrade;
  if (value === undefined) return null;
  if (typeof value !== 'function') {
    throw new AppLoadError(
      `corral: export upgrade of ${file} must be a function (req, socket, head, { signal }); it is ${describeValue(value)}`,
    );
  }
  return value as UpgradeListener;
}

/**
 * Guard the app so a throw or rejection in one request answers 500 (or drops that one
 * response if it had started) and the worker keeps serving everything else.
 */
export function guardListener(
  listener: RequestListener,
  onError: (err: unknown, req: IncomingMessage) => void,
): RequestListener {
  const fail = (err: unknown, req: IncomingMessage, res: ServerResponse) => {
    onError(err, req);
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
      res.end('Internal Server Error\n');
    } else {
      res.destroy();
    }
  };
  return (req, res) => {
    try {
      const r = listener(req, res) as unknown;
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (err) => fail(err, req, res));
      }
    } catch (err) {
      fail(err, req, res);
    }
  };
}
