/** Public API: `defineConfig` for corral.config.ts, and the types apps and config files use. */
import type { Config } from './config/settings.ts';
import type { Hooks } from './hooks.ts';

export type { FetchEnv, FetchHandler } from './app/fetch.ts';
export type { UpgradeContext, UpgradeListener } from './app/upgrade.ts';
export type { ProfileName } from './config/profiles.ts';
export type {
  Config,
  DispatchMode,
  LogLevel,
  WorkerStrategy,
  WorkersValue,
} from './config/settings.ts';
export type { Hooks, ServerInfo, WorkerExitInfo, WorkerInfo } from './hooks.ts';
export { type Client, clientOf } from './proxy/client.ts';

/** A config file's contents: any settings (by name) plus hooks. */
export type UserConfig = Partial<{ -readonly [K in keyof Config]: Config[K] }> & Hooks;

/** Identity function that gives a config file types and completion. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
