/**
 * The master's time: monotonic milliseconds (performance.now()), so heartbeats, kill
 * deadlines, back-off and boot timeouts are not moved by a wall-clock step (NTP, a VM
 * resume). Injected so the master's decisions can be tested with a clock the test moves.
 */
export type Clock = () => number;

export const monotonic: Clock = () => performance.now();
