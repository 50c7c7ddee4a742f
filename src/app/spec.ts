/** App specs: `path`, `path:export`, `path:factory()` (Gunicorn's `module:app` / `module:create_app()`). */

export interface AppSpec {
  /** The file part, as given. */
  readonly file: string;
  /** Export name; null = the default export. */
  readonly exportName: string | null;
  /** True for `path:factory()`: call the export and serve what it returns. */
  readonly call: boolean;
}

const EXPORT = /^(?<name>[A-Za-z_$][\w$]*)(?<call>\(\))?$/;

export function parseAppSpec(spec: string): AppSpec {
  const colon = spec.lastIndexOf(':');
  if (colon > 0) {
    const m = EXPORT.exec(spec.slice(colon + 1));
    if (m?.groups) {
      return {
        file: spec.slice(0, colon),
        exportName: m.groups.name ?? null,
        call: m.groups.call !== undefined,
      };
    }
  }
  return { file: spec, exportName: null, call: false };
}

export function formatAppSpec(s: AppSpec): string {
  return s.exportName ? `${s.file}:${s.exportName}${s.call ? '()' : ''}` : s.file;
}
