// A plain node:http app in TypeScript (no build step): export the (req, res) listener instead
// of calling listen(); corral binds the port and runs the workers.
//   npx corral examples/node-http.ts -w 2            → http://127.0.0.1:8000
//   curl -d '{"name":"Ada"}' http://127.0.0.1:8000/greet
// The same file still runs alone, without corral:   node examples/node-http.ts
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

interface Greeting {
  readonly greeting: string;
  readonly pid: number;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
  });
  res.end(text);
}

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'POST' && pathname === '/greet') {
    const body = (await readJson(req)) as { name?: unknown };
    const name = typeof body.name === 'string' ? body.name : 'stranger';
    const reply: Greeting = { greeting: `Hello, ${name}`, pid: process.pid };
    return send(res, 200, reply);
  }
  if (pathname === '/') return send(res, 200, `Hello from node:http (pid ${process.pid})\n`);
  send(res, 404, 'Not Found\n');
}

// Run directly (`node examples/node-http.ts`), serve it on one process like before.
if (import.meta.main) createServer(app).listen(3000, () => console.log('http://localhost:3000'));
