/**
 * `corral top`: a live view of a running master's workers (like `pm2 monit` or htop), read
 * from its control socket once a second. q or Ctrl+C quits.
 */
import { UsageError } from '../errors.ts';
import type { Status } from '../metrics/status.ts';
import { askMaster } from './ctl.ts';

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

function bar(fraction: number, width = 10): string {
  const n = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(n)}${'·'.repeat(width - n)}`;
}

/** One screen of `top`, from two status snapshots a second apart (for rates). */
export function frame(s: Status, prev: Status | null, seconds: number): string {
  const rate = prev ? Math.max(0, (s.totals.requests - prev.totals.requests) / seconds) : 0;
  const before = new Map(prev?.workers.map((w) => [w.pid, w.requests]) ?? []);
  const lines = [
    `corral ${s.version} — master ${s.pid} — ${s.ready ? 'ready' : s.stopping ? 'stopping' : 'not ready'} — ${s.workerClass} × ${s.workers.length}/${s.target} — ${s.binds.join(' ')}`,
    `requests ${s.totals.requests}  (${rate.toFixed(0)}/s)   2xx ${s.totals.statusClasses[1]}  4xx ${s.totals.statusClasses[3]}  5xx ${s.totals.statusClasses[4]}   waiting ${s.waiting}   restarts ${
      Object.entries(s.restarts)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') || 0
    }`,
    '',
    'WORKER  PID       STATE      REQ/S    REQUESTS  IN-FLIGHT  CONNS   RSS       LOOP BUSY            LAG p99   UP',
  ];
  for (const w of s.workers) {
    const r = Math.max(0, (w.requests - (before.get(w.pid) ?? w.requests)) / seconds);
    lines.push(
      [
        String(w.id).padEnd(7),
        String(w.pid).padEnd(9),
        `${w.stalled ? 'stalled' : w.state}${w.retiring ? '*' : ''}`.padEnd(10),
        r.toFixed(0).padStart(6),
        String(w.requests).padStart(11),
        String(w.inFlight).padStart(10),
        String(w.connections).padStart(6),
        `  ${mib(w.rssBytes).padEnd(9)}`,
        ` ${bar(w.elu)} ${(w.elu * 100).toFixed(0).padStart(3)}%`,
        `  ${(w.lagSeconds * 1000).toFixed(1).padStart(6)} ms`,
        `  ${w.uptimeSeconds}s`,
      ].join(' '),
    );
  }
  lines.push('', s.advice ? `advice: ${s.advice}` : 'advice: none', '', 'q quits');
  return lines.join('\n');
}

export async function top(socketPath: string | null): Promise<void> {
  if (!socketPath)
    throw new UsageError(
      'corral: top needs the control socket: --socket PATH (or controlSocket in the config file)',
    );
  const out = process.stdout;
  let prev: Status | null = null;
  let last = Date.now();
  let running = true;
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', (d) => {
    const k = d.toString();
    if (k === 'q' || k === '\u0003') running = false;
  });
  stdin.resume();
  try {
    while (running) {
      const reply = await askMaster(socketPath, { cmd: 'status' });
      if (!reply.ok || !reply.status) break;
      const now = Date.now();
      out.write(`\x1b[H\x1b[2J${frame(reply.status, prev, (now - last) / 1000)}\n`);
      prev = reply.status;
      last = now;
      for (let i = 0; i < 10 && running; i++) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  }
}
