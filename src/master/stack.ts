/**
 * The JavaScript stack a blocked worker is stuck in. A blocked event loop runs no JavaScript,
 * and a diagnostic report on a signal is written from the event loop too; but V8 can be
 * interrupted: SIGUSR1 makes Node start its inspector from a watchdog thread, and the
 * inspector's `Debugger.pause` reaches the main thread through an interrupt, under `for (;;)`
 * and inside a long synchronous call alike. Each worker tells the master the loopback port its
 * inspector will use (worker/inspect-port.ts); nothing listens there until the signal.
 */

/** One frame: `at name (url:line:column)`, as an Error's stack prints it. */
function frameLine(name: string, url: string, line: number, column: number): string {
  const where = `${url || '<anonymous>'}:${line + 1}:${column + 1}`;
  return `    at ${name ? `${name} (${where})` : where}`;
}

/** GET the inspector's target list until it answers (the inspector is starting). */
async function debuggerUrl(port: number, until: number): Promise<string | null> {
  const http = process.getBuiltinModule('node:http');
  while (performance.now() < until) {
    const url = await new Promise<string | null>((done) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/json/list', timeout: 200 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          try {
            done(
              (JSON.parse(body) as { webSocketDebuggerUrl?: string }[])[0]?.webSocketDebuggerUrl ??
                null,
            );
          } catch {
            done(null);
          }
        });
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => done(null));
    });
    if (url) return url;
    await new Promise((r) => setTimeout(r, 25));
  }
  return null;
}

/**
 * Signal the worker and read where its main thread is: the frames, innermost first, or null
 * when that did not work within `budgetMs` (no port, the inspector could not start).
 */
export async function readStack(
  pid: number,
  port: number,
  budgetMs: number,
): Promise<string[] | null> {
  if (!port) return null;
  const until = performance.now() + budgetMs;
  try {
    process.kill(pid, 'SIGUSR1');
  } catch {
    return null;
  }
  const url = await debuggerUrl(port, until);
  if (!url) return null;
  return new Promise<string[] | null>((done) => {
    const ws = new WebSocket(url);
    const scripts = new Map<string, string>();
    const finish = (frames: string[] | null) => {
      clearTimeout(timer);
      ws.onmessage = null;
      ws.onerror = null;
      try {
        ws.close();
      } catch {
        // Closing a socket that never opened.
      }
      done(frames);
    };
    const timer = setTimeout(() => finish(null), Math.max(0, until - performance.now()));
    ws.onerror = () => finish(null);
    ws.onopen = () => {
      ws.send(JSON.stringify({ id: 1, method: 'Debugger.enable' }));
      ws.send(JSON.stringify({ id: 2, method: 'Debugger.pause' }));
    };
    ws.onmessage = (e: MessageEvent) => {
      const m = JSON.parse(String(e.data)) as {
        method?: string;
        params?: {
          scriptId?: string;
          url?: string;
          callFrames?: {
            functionName: string;
            url?: string;
            location: { scriptId: string; lineNumber: number; columnNumber?: number };
          }[];
        };
      };
      if (m.method === 'Debugger.scriptParsed' && m.params?.scriptId) {
        scripts.set(m.params.scriptId, m.params.url ?? '');
      } else if (m.method === 'Debugger.paused') {
        const frames = (m.params?.callFrames ?? []).map((f) =>
          frameLine(
            f.functionName,
            scripts.get(f.location.scriptId) || f.url || '',
            f.location.lineNumber,
            f.location.columnNumber ?? 0,
          ),
        );
        finish(frames);
      }
    };
  });
}
