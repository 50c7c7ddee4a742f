// Next's own request handler, no listen(): corral handler.mjs (after `next build`).
import next from 'next';

const app = next({ dev: false, dir: import.meta.dirname });
await app.prepare();
const handle = app.getRequestHandler();

export default (req, res) => handle(req, res);
