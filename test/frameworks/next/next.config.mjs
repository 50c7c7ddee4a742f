import { fileURLToPath } from 'node:url';

// The apps share one node_modules in the folder above, so that folder is the tracing root:
// the standalone server lands at .next/standalone/next/server.js.
const root = fileURLToPath(new URL('..', import.meta.url));

export default {
  output: 'standalone',
  outputFileTracingRoot: root,
  turbopack: { root },
};
