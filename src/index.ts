/**
 * Public API: `serve()` to run corral from code, `defineConfig` for corral.config.ts, and the
 * types apps and config files use. Importing it loads nothing else: serve() imports the
 * server when called.
 */
import type { ConfigInput } from './config/settings.ts';
import type { Hooks } from './hooks.ts';

export type { FetchEnv, FetchHandler } from './app/fetch.ts';
export type { UpgradeContext, UpgradeListener } from './app/upgrade.ts';
export type { ProfileName } from './config/profiles.ts';
export type {
  Config,
  ConfigInput,
  DispatchMode,
  LogFormat,
  LogLevel,
  WorkerClass,
  WorkerStrategy,
  WorkersValue,
} from './config/settings.ts';
export type { SizeText } from './config/values.ts';
export { type CorralServer, type ServeOptions, serve } from './embedded.ts';
export type { Hooks, ServerInfo, WorkerExitInfo, WorkerInfo } from './hooks.ts';
export type { Status } from './metrics/status.ts';
export { type Client, clientOf } from './proxy/client.ts';

/**
 * A config file's contents: any settings (by name) in any form their parsers take — `'512MiB'`
 * for a size, one bind string or a list — plus hooks.
 */
export type UserConfig = ConfigInput & Hooks;

/** A config computed when it is read (at start and on every HUP), as Vite's function form. */
export type UserConfigFn = () => UserConfig | Promise<UserConfig>;

/** Identity function that gives a config file types and completion; takes an object or a function. */
export function defineConfig<const C extends UserConfig | UserConfigFn>(config: C): C {
  return config;
}
