/**
 * So the master can read this worker's stack when its event loop is blocked (--timeout; see
 * master/stack.ts): pick a free loopback port for Node's inspector and tell the master. Nothing
 * listens there until SIGUSR1 starts the inspector, and only the master sends that, at a
 * timeout, just before the worker is killed.
 */
import type { Config } from '../config/settings.ts';
import { sendToMaster } from '../ipc.ts';

/** The app's own --inspect flags win: its debugger is not ours to move. */
const INSPECT = /^--inspect/;

export async function offerInspectPort(
  config: Pick<Config, 'timeout' | 'nodeArgs'>,
): Promise<void> {
  if (
    config.timeout <= 0 ||
    [...process.execArgv, ...config.nodeArgs].some((a) => INSPECT.test(a))
  ) {
    return;
  }
  const server = process.getBuiltinModule('node:net').createServer();
  try {
    const port = await new Promise<number>((done, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => {
        const info = server.address();
        done(typeof info === 'object' && info ? info.port : 0);
      });
    });
    await new Promise((done) => server.close(done));
    process.debugPort = port;
    sendToMaster({ t: 'inspect', port });
  } catch {
    // No loopback port: the timeout report will say the stack could not be read.
  }
}
