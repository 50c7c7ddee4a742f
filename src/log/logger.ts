/**
 * The error log: leveled lines to stderr or a file, each saying which process wrote it
 * (`[master]`, `[worker 2]`), in Gunicorn's line shape so existing log parsers keep working.
 */
import type { LogLevel } from '../config/settings.ts';
import { closeSync, openSync, writeSync } from '../fs.ts';

const RANK: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warning: 30,
  error: 40,
  critical: 50,
};

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** `-` for stderr, else a file path (appended to). */
  readonly file: string;
  /** Who is speaking: `master`, `worker 2`. */
  readonly role: string;
}

export class Logger {
  readonly #min: number;
  readonly #file: string;
  readonly #role: string;
  #fd: number;

  constructor({ level, file, role }: LoggerOptions) {
    this.#min = RANK[level];
    this.#file = file;
    this.#role = role;
    this.#fd = file === '-' ? 2 : openSync(file, 'a');
  }

  /** The same destination and level, speaking for someone else. */
  as(role: string): Logger {
    return new Logger({ level: this.level, file: this.#file, role });
  }

  get level(): LogLevel {
    return (Object.keys(RANK) as LogLevel[]).find((l) => RANK[l] === this.#min) ?? 'info';
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#min;
  }

  log(level: LogLevel, message: string): void {
    if (RANK[level] < this.#min) return;
    const line = `[${timestamp()}] [${process.pid}] [${level.toUpperCase()}] [${this.#role}] ${message}\n`;
    try {
      writeSync(this.#fd, line);
    } catch {
      // A closed stderr or full disk must not take the server down.
    }
  }

  debug(m: string): void {
    this.log('debug', m);
  }
  info(m: string): void {
    this.log('info', m);
  }
  warning(m: string): void {
    this.log('warning', m);
  }
  error(m: string): void {
    this.log('error', m);
  }
  critical(m: string): void {
    this.log('critical', m);
  }

  /** Reopen the file (after log rotation moved it away); stderr needs nothing. */
  reopen(): void {
    if (this.#file === '-') return;
    const old = this.#fd;
    this.#fd = openSync(this.#file, 'a');
    if (old > 2) closeSync(old);
  }

  close(): void {
    if (this.#fd > 2) closeSync(this.#fd);
    this.#fd = 2;
  }
}
