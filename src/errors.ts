/** Exit codes and the one-line errors corral prints for them. */

/** Gunicorn's codes, so supervisors that know them keep working. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  /** Bad command line or setting. */
  USAGE: 2,
  /** A worker failed to boot (e.g. could not listen). */
  WORKER_BOOT: 3,
  /** The app failed to load (missing file, export, wrong shape, threw on import). */
  APP_LOAD: 4,
} as const;

/** An error that should end the process with one clear line and an exit code. */
export class CorralError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.FAILURE) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class UsageError extends CorralError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
  }
}

export class AppLoadError extends CorralError {
  constructor(message: string) {
    super(message, EXIT.APP_LOAD);
  }
}

/** The exit code a failed boot reports: the error's own (a CorralError's), else APP_LOAD. */
export function bootExitCode(err: unknown): number {
  return (err as { exitCode?: number }).exitCode ?? EXIT.APP_LOAD;
}
