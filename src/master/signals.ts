/** Signal → action. Handlers only enqueue; the master loop acts. */
export type Action =
  | 'stop'
  | 'quick-stop'
  | 'reload'
  | 'more'
  | 'fewer'
  | 'reopen-logs'
  | 'reexec'
  | 'stop-workers';

export const SIGNAL_ACTIONS: Readonly<Partial<Record<NodeJS.Signals, Action>>> = {
  SIGTERM: 'stop',
  SIGINT: 'quick-stop',
  SIGQUIT: 'quick-stop',
  SIGHUP: 'reload',
  SIGTTIN: 'more',
  SIGTTOU: 'fewer',
  SIGUSR1: 'reopen-logs',
  SIGUSR2: 'reexec',
  SIGWINCH: 'stop-workers',
};

/** Install handlers that call `enqueue`; returns a function that removes them. */
export function trapSignals(enqueue: (a: Action, sig: NodeJS.Signals) => void): () => void {
  const installed: [NodeJS.Signals, () => void][] = [];
  for (const [sig, action] of Object.entries(SIGNAL_ACTIONS) as [NodeJS.Signals, Action][]) {
    const handler = () => enqueue(action, sig);
    process.on(sig, handler);
    installed.push([sig, handler]);
  }
  return () => {
    for (const [sig, handler] of installed) process.off(sig, handler);
  };
}
