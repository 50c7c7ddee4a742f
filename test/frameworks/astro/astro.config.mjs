import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

// ASTRO_NODE_MODE=middleware builds the handler export (dist-middleware/) for docs/frameworks.md.
const mode = process.env.ASTRO_NODE_MODE === 'middleware' ? 'middleware' : 'standalone';

export default defineConfig({
  output: 'server',
  adapter: node({ mode }),
  outDir: mode === 'standalone' ? './dist' : './dist-middleware',
  telemetry: false,
});
