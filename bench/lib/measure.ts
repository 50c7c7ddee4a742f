/**
 * One measurement: start a server, load it, read what its processes used, stop it. Also the
 * start-up timings (a bare `node`, `corral --help`, a worker's boot).
 */
import { spawn } from 'node:child_process';
import type { Driver, LoadResult } from './load.ts';
import { cpuSecondsOf, rssOf } from './proc.ts';
import { type Role, type StartOptions, sleep, type Target, waitClosed } from './servers.ts';

export interface ProcessSample {
  readonly role: Role;
  readonly rssIdle: number;
  readonly rssLoaded: number;
}

export interface Sample extends LoadResult {
  /** CPU time all of the server's processes spent per request, microseconds. */
  readonly cpuUsPerRequest: number;
  readonly processes: readonly ProcessSample[];
}

export interface LoadShape {
  readonly seconds: number;
  readonly connections: number;
  readonly threads: number;
  readonly path: string;
  /** A new connection per request. */
  readonly close?: boolean;
  /**
   * Seconds of the same load before the measured run (default 1). A fresh Node process needs
   * about 3 s of connection churn before its JIT settles (every server: the first second runs
   * at about half the steady rate), far less with keep-alive.
   */
  readonly warmup?: number;
  /** The CPUs the load generator runs on (taskset); unset: any, beside the server. */
  readonly cpus?: string;
}

/** Start `target`, warm it up (`shape.warmup` s), load it, and stop it. */
export async function measure(
  target: Target,
  start: StartOptions,
  driver: Driver,
  shape: LoadShape,
): Promise<Sample> {
  await waitClosed(start.port);
  const server = await target.start(start);
  try {
    const url = `http://127.0.0.1:${start.port}${shape.path}`;
    const idle = new Map(server.processes().map((p) => [p.pid, rssOf(p.pid)]));
    await driver.load({ ...shape, url, seconds: shape.warmup ?? 1 });
    const procs = server.processes();
    const cpu0 = procs.map((p) => cpuSecondsOf(p.pid));
    const r = await driver.load({ ...shape, url });
    const cpu1 = procs.map((p) => cpuSecondsOf(p.pid));
    const cpu = cpu1.reduce((sum, c, i) => sum + Math.max(0, c - (cpu0[i] ?? c)), 0);
    return {
      ...r,
      cpuUsPerRequest: r.requests ? (cpu / r.requests) * 1e6 : Number.NaN,
      processes: procs.map((p) => ({
        role: p.role,
        rssIdle: idle.get(p.pid) ?? 0,
        rssLoaded: rssOf(p.pid),
      })),
    };
  } finally {
    await server.stop();
  }
}

/** Wall time of a command from spawn to exit, milliseconds. */
export function timeCommand(args: readonly string[]): Promise<number> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, args, { stdio: 'ignore' });
    p.once('error', fail);
    p.once('exit', () => done(performance.now() - t0));
  });
}

/**
 * A server from spawn until it answers its first request, and (for corral) what its log
 * says about each worker: fork → ready, milliseconds.
 */
export async function timeStart(
  target: Target,
  start: StartOptions,
): Promise<{ toFirstAnswer: number; workerReady: number[] }> {
  await waitClosed(start.port);
  const t0 = performance.now();
  const server = await target.start(start);
  const toFirstAnswer = performance.now() - t0;
  const log = server.log?.() ?? '';
  await server.stop();
  await sleep(100);
  const workerReady = [...log.matchAll(/ready in (\d+) ms/g)].map((m) => Number(m[1]));
  return { toFirstAnswer, workerReady };
}
