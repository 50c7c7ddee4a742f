// deploy/kubernetes: the YAML parses, the objects fit together, and probes, ports and
// timeouts agree with the corral settings the Deployment sets (resolved by corral itself).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  defaultPort,
  readDeploy,
  resolveCorral,
  tcp,
  unknownCorralVars,
} from '../helpers/manifests.ts';

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Obj = any;

function load(file: string): Obj {
  const docs = parseAllDocuments(readDeploy(`kubernetes/${file}`));
  assert.ok(Array.isArray(docs), `${file} parses`);
  assert.equal(docs.length, 1, `${file} holds one object`);
  const doc = docs[0] as (typeof docs)[number];
  assert.deepEqual(doc.errors, [], `${file} has no YAML errors`);
  return doc.toJS();
}

/** `2`, `"2"`, `1500m` → cores; `1Gi`, `512Mi`, `400MiB` → bytes. */
function cores(q: string | number): number {
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s);
}
function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|KiB|MiB|GiB)?$/.exec(q);
  assert.ok(m, `quantity ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[(m[2] ?? '').replace('B', '')] ?? 1;
  return Number(m[1]) * unit;
}

const deployment = load('deployment.yaml');
const service = load('service.yaml');
const hpa = load('hpa.yaml');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const env: Record<string, string> = Object.fromEntries(
  container.env.map((e: { name: string; value: string }) => [e.name, String(e.value)]),
);

test('Deployment: required fields, and labels that select its own pods', () => {
  assert.equal(deployment.apiVersion, 'apps/v1');
  assert.equal(deployment.kind, 'Deployment');
  assert.ok(deployment.metadata.name);
  assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
  assert.ok(container.image);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
});

test('Deployment: corral binds all interfaces on the named port every probe uses', async () => {
  assert.deepEqual(unknownCorralVars(env), []);
  const r = await resolveCorral(container.args, env);
  const bind = tcp(r.config.bind[0] as string);
  assert.equal(bind.host, '0.0.0.0', 'the kubelet probes the pod IP, not loopback');
  assert.equal(bind.port, defaultPort());
  const http = container.ports.find((p: Obj) => p.name === 'http');
  assert.equal(http.containerPort, bind.port);
  for (const probe of [container.readinessProbe, container.livenessProbe]) {
    const target = probe.httpGet ?? probe.tcpSocket;
    assert.ok(target, 'an HTTP or TCP probe');
    assert.ok(target.port === 'http' || target.port === bind.port, `probe port ${target.port}`);
  }
  assert.match(container.readinessProbe.httpGet.path, /^\//);
  // Liveness must not depend on a worker answering: corral replaces hung workers itself.
  assert.ok(container.livenessProbe.tcpSocket);
});

test('Deployment: terminationGracePeriodSeconds covers --shutdown-delay + --graceful-timeout', async () => {
  const r = await resolveCorral(container.args, env);
  assert.ok(r.config.shutdownDelay > 0, 'a shutdown delay instead of a preStop sleep');
  assert.equal(container.lifecycle?.preStop, undefined);
  assert.ok(
    pod.terminationGracePeriodSeconds > r.config.shutdownDelay + r.config.gracefulTimeout,
    `${pod.terminationGracePeriodSeconds} > ${r.config.shutdownDelay} + ${r.config.gracefulTimeout}`,
  );
});

test('Deployment: resource requests and limits, and recycling below the memory limit', async () => {
  const { requests, limits } = container.resources;
  for (const q of [requests.cpu, requests.memory, limits.cpu, limits.memory]) assert.ok(q);
  const r = await resolveCorral(container.args, env);
  assert.equal(r.config.workers, 'auto', 'sized from the CPU limit');
  const workers = Math.max(1, Math.ceil(cores(limits.cpu)));
  assert.ok(r.config.maxWorkerMemory > 0);
  assert.ok(
    workers * r.config.maxWorkerMemory < bytes(limits.memory),
    `${workers} workers × ${r.config.maxWorkerMemory} < ${limits.memory}`,
  );
});

test('Service: selects the Deployment’s pods and targets its named port', () => {
  assert.equal(service.apiVersion, 'v1');
  assert.equal(service.kind, 'Service');
  assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
  const port = service.spec.ports[0];
  assert.ok(port.targetPort === 'http' || port.targetPort === defaultPort());
});

test('HPA: scales this Deployment on CPU, which needs CPU requests', () => {
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.equal(hpa.kind, 'HorizontalPodAutoscaler');
  assert.deepEqual(hpa.spec.scaleTargetRef, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: deployment.metadata.name,
  });
  assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas);
  const cpu = hpa.spec.metrics.find((m: Obj) => m.resource?.name === 'cpu');
  assert.equal(cpu.type, 'Resource');
  assert.ok(cpu.resource.target.averageUtilization > 0);
  assert.ok(container.resources.requests.cpu, 'Utilization is relative to requests');
});
