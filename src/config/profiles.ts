/**
 * Profiles: named presets of settings, derived from the "environment profiles" real teams keep
 * for Gunicorn (see docs/sizing.md for the mapping). A profile's values sit just above the
 * defaults and below the config file, environment and command line, so a profile is "better
 * defaults for this situation" and anything the user names explicitly still wins.
 *
 * Values here are raw, like a config file's: resolve.ts parses them with the settings table's
 * types, so a profile can only preset settings that exist, with values the table accepts.
 */
import type { Config } from './settings.ts';

export const PROFILE_NAMES = [
  'development',
  'production',
  'high-availability',
  'memory-constrained',
  'high-concurrency',
] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface Profile {
  /** One line: what it is for and what it is derived from. */
  readonly summary: string;
  readonly values: Partial<Omit<Config, 'profile'>>;
}

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  development: {
    summary:
      'Local work: two workers start fast and still exercise multi-process behaviour; debug log and an access log on stdout.',
    values: { workers: 2, logLevel: 'debug', accessLogfile: '-' },
  },
  production: {
    summary:
      'Sized for the machine (auto), quieter log, access log on stdout for the platform, workers recycled after 1000 ± 50 requests, the app checked once before forking.',
    values: {
      workers: 'auto',
      logLevel: 'warning',
      accessLogfile: '-',
      maxRequests: 1000,
      maxRequestsJitter: 50,
      gracefulTimeout: 30,
      keepAlive: 5,
      preload: true,
    },
  },
  'high-availability': {
    summary:
      'Never one worker: at least two, so a crash, hang or recycle always leaves one serving; a deep accept backlog; staggered recycling.',
    values: {
      workers: 'auto',
      minWorkers: 2,
      backlog: 4096,
      maxRequests: 1000,
      maxRequestsJitter: 50,
      gracefulTimeout: 30,
      preload: true,
    },
  },
  'memory-constrained': {
    summary:
      'Workers counted by measured memory: the io count at 0.25 per core, lowered until they fit the memory limit; recycled after 500 ± 50 requests to contain growth.',
    values: {
      workers: 'memory',
      workersPerCore: 0.25,
      maxRequests: 500,
      maxRequestsJitter: 50,
    },
  },
  'high-concurrency': {
    summary:
      'Many open connections: one event loop per CPU holds thousands each; a deep backlog for connection bursts; keep-alive above the 60 s idle timeout of common load balancers, so connections are reused instead of re-dispatched.',
    values: { workers: 'cpu', backlog: 4096, keepAlive: 65 },
  },
};
