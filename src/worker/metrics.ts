/**
 * A worker's answer to a scrape of the master's /metrics: Node's metrics for this process and
 * the app's own prom-client metrics (its default registry), as prom-client's JSON. Loaded on
 * the first scrape; a worker whose master serves no metrics never loads it.
 *
 * The app's prom-client is the copy the app loaded, wherever it was installed: found among the
 * loaded CommonJS modules (`import` of prom-client loads it there too). corral loads none, so
 * an app that does not use prom-client costs nothing here.
 */
import { createRequire } from 'node:module';
import type { Family } from '../metrics/exposition.ts';
import { nodeMetrics } from '../metrics/node-process.ts';

interface PromClient {
  register?: { getMetricsAsJSON(): Family[] | Promise<Family[]> };
}

const cache = createRequire(import.meta.url).cache;
const PROM_CLIENT = /[\\/]prom-client[\\/]index\.js$/;

/** The default registries of every prom-client copy the app has loaded. */
function appRegistries(): NonNullable<PromClient['register']>[] {
  const found = new Set<NonNullable<PromClient['register']>>();
  for (const [file, mod] of Object.entries(cache)) {
    if (!PROM_CLIENT.test(file)) continue;
    const reg = (mod?.exports as PromClient | undefined)?.register;
    if (reg && typeof reg.getMetricsAsJSON === 'function') found.add(reg);
  }
  return [...found];
}

export async function collectMetrics(): Promise<{ node: Family[]; app: Family[] }> {
  const app: Family[] = [];
  for (const reg of appRegistries()) {
    try {
      app.push(...(await reg.getMetricsAsJSON()));
    } catch {
      // A collect() callback of the app threw; serve the rest.
    }
  }
  // Plain data only: a structured-clone-free JSON channel carries it to the master.
  return { node: nodeMetrics({ heapSpaces: true }), app: JSON.parse(JSON.stringify(app)) };
}
