/** Where a resolved value came from, for `corral config` and error messages. */
export type SourceKind = 'default' | 'profile' | 'file' | 'code' | 'env' | 'cli';

export interface Source {
  readonly kind: SourceKind;
  /** The flag, variable or file that set it (`--workers`, `WEB_CONCURRENCY`, `corral.config.ts`). */
  readonly origin?: string;
}

export function describeSource(s: Source): string {
  switch (s.kind) {
    case 'default':
      return s.origin ? `default (${s.origin})` : 'default';
    case 'cli':
      return `command line ${s.origin}`;
    case 'env':
      return `environment ${s.origin}`;
    case 'file':
      return `config file ${s.origin}`;
    case 'code':
      return `${s.origin ?? 'serve()'} options`;
    case 'profile':
      return `profile ${s.origin}`;
  }
}
