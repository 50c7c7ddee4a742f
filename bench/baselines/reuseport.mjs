// WORKERS independent processes, each with its own SO_REUSEPORT socket.
import { fork } from 'node:child_process';

const kids = [];
for (let i = 0; i < Number(process.env.WORKERS); i++) {
  kids.push(
    fork(new URL('./single.mjs', import.meta.url), { env: { ...process.env, REUSEPORT: '1' } }),
  );
}
process.on('SIGTERM', () => {
  for (const k of kids) k.kill();
  process.exit(0);
});
