/**
 * How a drained worker leaves: by letting its event loop end, as a Node program ends, rather
 * than process.exit(). Node then emits 'beforeExit', where SDKs flush what they buffer:
 * OpenTelemetry's zero-code setup (`--import @opentelemetry/auto-instrumentations-node/register`)
 * shuts its SDK down there, exporting the spans of the worker's last requests. process.exit()
 * skips 'beforeExit', and with it those spans.
 *
 * An app may keep the loop alive after it was closed (a timer, a pool it does not close): then,
 * after IDLE_MS, corral emits 'beforeExit' itself and exits at most FLUSH_MS later (sooner if
 * the loop ends). Either way the master's kill at --graceful-timeout stays the last word.
 */

const IDLE_MS = 1000;
const FLUSH_MS = 2000;

let leaving = false;

/** `exit`: the real process.exit (a listen-mode app's calls of it are intercepted). */
export function exitWhenIdle(code: number, exit: (code: number) => never): void {
  if (leaving) return;
  leaving = true;
  process.exitCode = code;
  let emitted = false;
  process.once('beforeExit', () => {
    emitted = true;
  });
  // The channel to the master stays open (it may still ask for metrics) but no longer keeps
  // the process alive.
  (process.channel as { unref?(): void } | undefined)?.unref?.();
  setTimeout(() => {
    if (!emitted) {
      emitted = true;
      process.emit('beforeExit', code);
    }
    setTimeout(() => exit(code), FLUSH_MS).unref();
  }, IDLE_MS).unref();
}
