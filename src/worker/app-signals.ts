/**
 * The app's own process handlers must not cut requests. Frameworks exit on SIGTERM/SIGINT
 * (Next.js, Nitro, NestJS's shutdown hooks), and a signal sent to the whole process group
 * (systemd's KillMode=control-group, a terminal's Ctrl+C, `kill -- -PGID`) reaches every
 * worker directly. So in a worker:
 *
 * - the app's SIGTERM/SIGINT/SIGQUIT listeners are kept aside: the worker's own handling of
 *   the signal runs (drain, or corral's quick stop), and the app's SIGTERM listeners run
 *   once the worker has drained, whatever started the drain (a signal, a HUP, recycling), so
 *   the app's clean-up (closing a database pool) happens after its last request;
 * - a process.exit() the app calls while the worker is draining waits until it has drained.
 */
import { EventEmitter } from 'node:events';

export const APP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
type AppSignal = (typeof APP_SIGNALS)[number];
type Fn = (...args: unknown[]) => void;
const emitter = EventEmitter.prototype as unknown as Record<string, Fn>;

const isAppSignal = (name: unknown): name is AppSignal =>
  typeof name === 'string' && (APP_SIGNALS as readonly string[]).includes(name);

export class AppSignals {
  readonly #kept = new Map<AppSignal, { fn: Fn; once: boolean }[]>();

  /**
   * Patch process's listener methods for the app signals. corral's own handlers must be
   * installed before this (they are registered on the process as usual).
   */
  static install(): AppSignals {
    const me = new AppSignals();
    const proc = process as unknown as Record<string, Fn>;
    const add =
      (method: string, once: boolean, prepend: boolean) =>
      (...args: unknown[]) => {
        const [name, fn] = args;
        if (!isAppSignal(name) || typeof fn !== 'function') {
          return Reflect.apply(emitter[method] as Fn, process, args);
        }
        const list = me.#kept.get(name) ?? [];
        if (prepend) list.unshift({ fn: fn as Fn, once });
        else list.push({ fn: fn as Fn, once });
        me.#kept.set(name, list);
        return process;
      };
    const remove =
      (method: string) =>
      (...args: unknown[]) => {
        const [name, fn] = args;
        if (!isAppSignal(name)) {
          return Reflect.apply(emitter[method] as Fn, process, args);
        }
        const list = me.#kept.get(name) ?? [];
        const i = list.findIndex((l) => l.fn === fn);
        if (i >= 0) list.splice(i, 1);
        return process;
      };
    proc.on = add('on', false, false);
    proc.addListener = add('addListener', false, false);
    proc.once = add('once', true, false);
    proc.prependListener = add('prependListener', false, true);
    proc.prependOnceListener = add('prependOnceListener', true, true);
    proc.off = remove('off');
    proc.removeListener = remove('removeListener');
    proc.removeAllListeners = (...args: unknown[]) => {
      const [name] = args;
      if (isAppSignal(name)) me.#kept.delete(name);
      else if (name === undefined) me.#kept.clear();
      // Only the app's own: corral's handlers for the app signals stay.
      if (!isAppSignal(name) && name !== undefined) {
        Reflect.apply(emitter.removeAllListeners as Fn, process, args);
      }
      return process;
    };
    return me;
  }

  /** How many listeners the app has for `signal`. */
  count(signal: AppSignal): number {
    return this.#kept.get(signal)?.length ?? 0;
  }

  /** Run the app's listeners for `signal`, as the signal would have (a throw is reported). */
  run(signal: AppSignal, onError: (err: unknown) => void): number {
    const list = [...(this.#kept.get(signal) ?? [])];
    this.#kept.set(
      signal,
      (this.#kept.get(signal) ?? []).filter((l) => !l.once),
    );
    for (const l of list) {
      try {
        l.fn(signal);
      } catch (err) {
        onError(err);
      }
    }
    return list.length;
  }
}
