/**
 * The error log: leveled lines to stderr or a file, each saying which process wrote it
 * (`[master]`, `[worker 2]`), in Gunicorn's line shape so existing log parsers keep working;
 * or (`--log-format json`) one JSON object per line in pino's shape.
 */
import type { LogFormat, LogLevel } from '../config/settings.ts';
import { closeSync, openSync, writeSync } from '../fs.ts';

/** pino's level numbers; Gunicorn's names share them with pino's (warning = warn, critical = fatal). */
const RANK: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  warning: 40,
  error: 50,
  fatal: 60,
  critical: 60,
};

/** What the text format prints for each rank: Gunicorn's names. */
const LABEL: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};

let host: string | undefined;
/** Looked up once, when the first JSON line is written (node:os only then). */
function hostName(): string {
  host ??= process.getBuiltinModule('node:os').hostname();
  return host;
}

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
  /** text (Gunicorn's line) or json (pino's object); text when not given. */
  readonly format?: LogFormat;
}

export class Logger {
  readonly #min: number;
  readonly #file: string;
  readonly #role: string;
  readonly #level: LogLevel;
  readonly #format: LogFormat;
  #fd: number;

  constructor({ level, file, role, format = 'text' }: LoggerOptions) {
    this.#min = RANK[level];
    this.#level = level;
    this.#file = file;
    this.#role = role;
    this.#format = format;
    this.#fd = file === '-' ? 2 : openSync(file, 'a');
  }

  /** The same destination, level and format, speaking for someone else. */
  as(role: string): Logger {
    return new Logger({ level: this.#level, file: this.#file, role, format: this.#format });
  }

  get level(): LogLevel {
    return this.#level;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#min;
  }

  log(level: LogLevel, message: string): void {
    const rank = RANK[level];
    if (rank < this.#min) return;
    const line =
      this.#format === 'json'
        ? `${JSON.stringify({
            level: rank,
            time: Date.now(),
            pid: process.pid,
            hostname: hostName(),
            role: this.#role,
            msg: message,
          })}\n`
        : `[${timestamp()}] [${process.pid}] [${LABEL[rank]}] [${this.#role}] ${message}\n`;
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
