// WebSockets with the ws library. Besides the app, the module exports `upgrade`: corral attaches
// it to every worker's HTTP server as its 'upgrade' listener (there is no server to pass to
// `new WebSocketServer({ server })`: the master owns the port).
//   npx corral examples/websocket.mjs -w 2
//   node -e "const w = new WebSocket('ws://127.0.0.1:8000/'); w.onmessage = (m) => (console.log(m.data), w.close()); w.onopen = () => w.send('hi')"
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ noServer: true });

wss.on('connection', (ws) => {
  ws.on('message', (data) => ws.send(`echo from pid ${process.pid}: ${data}`));
});

/** Plain HTTP requests still reach the app. */
export default function app(_req, res) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`WebSocket echo (pid ${process.pid}): connect to ws://<this host>/\n`);
}

/** This worker is draining (reload, recycle, stop): ask clients to reconnect elsewhere. */
function goingAway() {
  for (const ws of wss.clients) ws.close(1001, 'server restarting');
}

/** @type {import('../src/index.ts').UpgradeListener} */
export function upgrade(req, socket, head, { signal }) {
  // The same listener function is added once, however many connections call this.
  signal.addEventListener('abort', goingAway);
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
}
