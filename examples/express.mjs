// Express 5: export the app instead of calling app.listen(); corral serves it on every worker.
//   npx corral examples/express.mjs -w 4 -b 0.0.0.0:8080
import express from 'express';

const app = express();
app.use(express.json());

app.get('/', (_req, res) => {
  res.type('text/plain').send(`Hello from Express (pid ${process.pid})\n`);
});

app.post('/echo', (req, res) => {
  res.json({ youSent: req.body, pid: process.pid });
});

export default app;
