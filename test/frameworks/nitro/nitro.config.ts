import { defineNitroConfig } from 'nitropack/config';

// NITRO_PRESET=node-listener builds the handler export (.output-listener/) for docs/frameworks.md.
const listener = process.env.NITRO_PRESET === 'node-listener';

export default defineNitroConfig({
  compatibilityDate: '2026-12-01',
  srcDir: '.',
  preset: listener ? 'node-listener' : 'node-server',
  output: { dir: listener ? '.output-listener' : '.output' },
  telemetry: false,
});
