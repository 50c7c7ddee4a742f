/**
 * The master's side of a scrape: ask every worker for its metrics and wait for the answers,
 * at most `timeoutMs` (a worker that does not answer in time, blocked or exiting, is left out
 * of this scrape).
 */
import type { ChildProcess } from 'node:child_process';
import { type FromWorker, sendToWorker } from '../ipc.ts';
import type { Family } from './exposition.ts';

export interface WorkerMetrics {
  readonly id: number;
  /** The worker's stable slot (1..N): its series' `worker` label. */
  readonly slot: number;
  readonly node: readonly Family[];
  readonly app: readonly Family[];
}

type Reply = Extract<FromWorker, { t: 'metrics' }>;

let nextSeq = 1;

function ask(child: ChildProcess, timeoutMs: number): Promise<Reply | null> {
  const seq = nextSeq++;
  return new Promise((done) => {
    const finish = (r: Reply | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      done(r);
    };
    const onMessage = (m: unknown) => {
      const r = m as Reply;
      if (r?.t === 'metrics' && r.seq === seq) finish(r);
    };
    const onExit = () => finish(null);
    const timer = setTimeout(() => finish(null), timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
    if (!sendToWorker(child, { t: 'metrics', seq })) finish(null);
  });
}

export async function collectWorkerMetrics(
  workers: readonly { readonly id: number; readonly slot: number; readonly child: ChildProcess }[],
  timeoutMs = 2000,
): Promise<WorkerMetrics[]> {
  const replies = await Promise.all(workers.map((w) => ask(w.child, timeoutMs)));
  const out: WorkerMetrics[] = [];
  replies.forEach((r, i) => {
    const w = workers[i];
    if (r && w) out.push({ id: w.id, slot: w.slot, node: r.node, app: r.app });
  });
  return out;
}
