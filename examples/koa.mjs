// Koa 3: export the app; corral serves app.callback() on every worker (no app.listen()).
//   npx corral examples/koa.mjs -w 4
import Koa from 'koa';

const app = new Koa();

app.use(async (ctx) => {
  ctx.type = 'text/plain';
  ctx.body = `Hello from Koa (pid ${process.pid})\n`;
});

export default app;
