// Hono: its app is a fetch handler, so export it as it is; corral bridges it to Node's HTTP.
//   npx corral examples/hono.ts -w 4
import { Hono } from 'hono';

const app = new Hono();

app.get('/', (c) => c.text(`Hello from Hono (pid ${process.pid})\n`));
app.get('/json', (c) => c.json({ framework: 'hono', pid: process.pid }));

export default app;
