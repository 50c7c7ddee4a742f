// Fastify 5: export a factory and name it in the spec; corral calls it in each worker, awaits
// ready() and serves the instance (no fastify.listen()).
//   npx corral 'examples/fastify.ts:build()' -w 4
import Fastify, { type FastifyInstance } from 'fastify';

export function build(): FastifyInstance {
  const app = Fastify();
  app.get('/', async (_request, reply) => {
    reply.type('text/plain');
    return `Hello from Fastify (pid ${process.pid})\n`;
  });
  app.get('/json', async () => ({ framework: 'fastify', pid: process.pid }));
  return app;
}
