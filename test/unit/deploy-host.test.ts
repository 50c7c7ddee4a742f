// deploy/systemd and deploy/docker: the keys the guides promise, and corral settings that
// resolve (with corral's own resolver) to what the files claim.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIGNAL_ACTIONS } from '../../src/master/signals.ts';
import {
  defaultPort,
  parseDockerfile,
  parseUnit,
  readDeploy,
  resolveCorral,
  tcp,
  unknownCorralVars,
} from '../helpers/manifests.ts';

function one(unit: Map<string, Map<string, string[]>>, section: string, key: string): string {
  const values = unit.get(section)?.get(key);
  assert.ok(values?.length, `[${section}] ${key} is set`);
  return values.at(-1) as string;
}

test('systemd: the socket unit listens on corral’s default port for all interfaces', () => {
  const socket = parseUnit(readDeploy('systemd/myapp.socket'));
  assert.deepEqual(tcp(one(socket, 'Socket', 'ListenStream')), {
    host: '0.0.0.0',
    port: defaultPort(),
  });
  assert.equal(one(socket, 'Install', 'WantedBy'), 'sockets.target');
});

test('systemd: the service has the keys the guide promises and runs corral as its main process', async () => {
  const unit = parseUnit(readDeploy('systemd/myapp.service'));
  // corral sends READY=1 through systemd-notify, a child process: it needs NotifyAccess=all.
  assert.equal(one(unit, 'Service', 'Type'), 'notify');
  assert.equal(one(unit, 'Service', 'NotifyAccess'), 'all');
  assert.equal(one(unit, 'Service', 'KillMode'), 'mixed');
  assert.equal(one(unit, 'Service', 'KillSignal'), 'SIGTERM');
  assert.equal(SIGNAL_ACTIONS.SIGTERM, 'stop');
  assert.equal(one(unit, 'Service', 'ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(SIGNAL_ACTIONS.SIGHUP, 'reload');
  assert.match(one(unit, 'Unit', 'Requires'), /\bmyapp\.socket\b/);
  assert.equal(one(unit, 'Service', 'RestartPreventExitStatus'), '2 4');
  assert.notEqual(one(unit, 'Service', 'User'), 'root');

  const [node, bin, ...args] = one(unit, 'Service', 'ExecStart').split(/\s+/);
  // LISTEN_PID must be corral's pid: node itself, no npx/npm/sh in between.
  assert.match(node ?? '', /^\/.*\/node$/);
  assert.match(bin ?? '', /\/node_modules\/corral\/bin\/corral\.js$/);
  const r = await resolveCorral(args, {});
  assert.equal(r.config.app, 'dist/server.js');
  assert.equal(r.sources.bind.kind, 'default', 'no bind: the passed socket is served');
  const stopSec = Number(one(unit, 'Service', 'TimeoutStopSec'));
  assert.ok(
    stopSec > r.config.gracefulTimeout + r.config.shutdownDelay,
    `TimeoutStopSec ${stopSec} leaves corral its graceful timeout`,
  );
});

test('Dockerfile: non-root, exec form, tini as PID 1, corral on 0.0.0.0 and the exposed ports, /healthz', async () => {
  const steps = parseDockerfile(readDeploy('docker/Dockerfile'));
  const stages = steps.filter((s) => s.op === 'FROM');
  for (const s of stages) assert.match(s.args, /^node:24-/, 'Node 24 (type stripping, ≥ 22.18)');
  const final = steps.slice(steps.lastIndexOf(stages.at(-1) as (typeof steps)[number]));
  const get = (op: string) => final.filter((s) => s.op === op).map((s) => s.args);
  const user = get('USER').at(-1);
  assert.ok(user && !['root', '0'].includes(user), `runs as ${user}`);
  const entrypoint = JSON.parse(get('ENTRYPOINT').at(-1) ?? 'null') as string[];
  const cmd = JSON.parse(get('CMD').at(-1) ?? 'null') as string[];
  assert.ok(Array.isArray(entrypoint) && Array.isArray(cmd), 'exec form: no shell eats SIGTERM');
  assert.deepEqual(entrypoint.slice(0, 2), ['/usr/bin/tini', '--']);
  const corral = entrypoint.indexOf('node_modules/corral/bin/corral.js');
  assert.equal(entrypoint[corral - 1], 'node');
  assert.equal(get('STOPSIGNAL').at(-1), 'SIGTERM');

  const env: Record<string, string> = {};
  for (const e of get('ENV')) {
    const [k, v] = e.split('=');
    env[k as string] = v as string;
  }
  assert.deepEqual(unknownCorralVars(env), []);
  const r = await resolveCorral([...entrypoint.slice(corral + 1), ...cmd], env);
  const bind = tcp(r.config.bind[0] as string);
  assert.equal(bind.host, '0.0.0.0', 'reachable from outside the container');
  assert.equal(bind.port, defaultPort());
  const metrics = tcp(r.config.metricsBind ?? '');
  assert.deepEqual(get('EXPOSE'), [`${bind.port} ${metrics.port}`]);
  assert.ok(
    r.config.gracefulTimeout + r.config.shutdownDelay < 10,
    'drains within docker stop’s default 10 s',
  );
  assert.equal(r.config.workers, 'auto', 'sized from the container’s CPUs');
  assert.ok(
    (get('HEALTHCHECK').at(-1) ?? '').includes(`http://127.0.0.1:${metrics.port}/healthz`),
    'the health check asks the master’s /healthz',
  );
});
