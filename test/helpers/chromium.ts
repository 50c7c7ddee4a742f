/** Headless Chromium for tests that must see a page rendered (Debian's `chromium` package). */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

/** The browser's path, or null when none is installed. */
export function findChromium(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of NAMES) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {}
    }
  }
  return null;
}

/**
 * Run `browser --headless … extra url` with a throwaway profile and everything that would
 * reach the network turned off; returns stdout (e.g. `--dump-dom`'s rendered DOM).
 */
export async function headless(browser: string, extra: string[], url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'corral-chromium-'));
  try {
    const { stdout } = await run(
      browser,
      [
        '--headless',
        // The tests run as root in CI containers, where Chromium's sandbox cannot start.
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...extra,
        url,
      ],
      { timeout: 60_000, maxBuffer: 32 * 2 ** 20 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
