// The cgroup reader against fixture trees of /proc/self and /sys/fs/cgroup (plain files).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { countCpuList, readCgroupLimits } from '../../src/sizing/cgroup.ts';
import { parseMountinfo, parseProcCgroup } from '../../src/sizing/cgroup-paths.ts';
import { type Host, readResources } from '../../src/sizing/resources.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/cgroup/${name}/`, import.meta.url));

const MiB = 2 ** 20;

test('v1 in a container without a cgroup namespace: mount root is our own cgroup', () => {
  const cg = readCgroupLimits(fixture('v1-docker'));
  assert.equal(cg.layout, 'v1');
  assert.deepEqual(cg.cpuQuota, {
    version: 'v1',
    quota: 150000,
    period: 100000,
    cpus: 1.5,
    file: '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us',
  });
  assert.equal(cg.cpuset?.cpus, 4);
  assert.equal(cg.cpuset?.file, '/sys/fs/cgroup/cpuset/cpuset.effective_cpus');
  assert.deepEqual(cg.memory, {
    version: 'v1',
    bytes: 256 * MiB,
    file: '/sys/fs/cgroup/memory/memory.limit_in_bytes',
  });
});

test('v1 with no quota (-1) and the unlimited memory sentinel: no limits', () => {
  const cg = readCgroupLimits(fixture('v1-unlimited'));
  assert.equal(cg.layout, 'v1');
  assert.equal(cg.cpuQuota, null);
  assert.equal(cg.memory, null);
  assert.equal(cg.cpuset?.cpus, 8, 'the cpuset is still read');
});

test('v1 naming a host path the mount cannot show: the mount point is our cgroup', () => {
  const cg = readCgroupLimits(fixture('v1-hostpath'));
  assert.equal(cg.cpuQuota?.cpus, 0.5);
  assert.equal(cg.cpuset?.list, '2,5-6');
  assert.equal(cg.cpuset?.cpus, 3);
  assert.equal(cg.memory?.bytes, 128 * MiB);
});

test('v2: limits set on an ancestor (the pod) apply; the smallest wins', () => {
  const cg = readCgroupLimits(fixture('v2-k8s'));
  assert.equal(cg.layout, 'v2');
  assert.deepEqual(cg.cpuQuota, {
    version: 'v2',
    quota: 200000,
    period: 100000,
    cpus: 2,
    file: '/sys/fs/cgroup/kubepods/pod1/cpu.max',
  });
  assert.equal(cg.memory?.bytes, 512 * MiB, 'pod 512 MiB beats kubepods 1 GiB');
  assert.equal(cg.memory?.file, '/sys/fs/cgroup/kubepods/pod1/memory.max');
  assert.equal(cg.cpuset?.cpus, 6);
  assert.equal(cg.cpuset?.file, '/sys/fs/cgroup/kubepods/pod1/ctr/cpuset.cpus.effective');
});

test('v2 with "max" everywhere: no quota, no memory limit', () => {
  const cg = readCgroupLimits(fixture('v2-unlimited'));
  assert.equal(cg.layout, 'v2');
  assert.equal(cg.cpuQuota, null);
  assert.equal(cg.memory, null);
  assert.equal(cg.cpuset?.cpus, 16);
});

test('v2 in a cgroup namespace: our cgroup is the mount point itself', () => {
  const cg = readCgroupLimits(fixture('v2-namespaced'));
  assert.equal(cg.cpuQuota?.cpus, 1.5);
  assert.equal(cg.cpuQuota?.file, '/sys/fs/cgroup/cpu.max');
  assert.equal(cg.memory?.bytes, 192 * MiB);
  assert.equal(cg.cpuset?.cpus, 8);
});

test('without /proc/self/mountinfo the standard /sys/fs/cgroup layout is used', () => {
  const cg = readCgroupLimits(fixture('v2-no-mountinfo'));
  assert.equal(cg.layout, 'v2');
  assert.equal(cg.cpuQuota?.cpus, 0.5);
  assert.equal(cg.memory?.bytes, 128 * MiB);
  assert.equal(cg.cpuset, null);
});

test('hybrid: controllers on v1 hierarchies, an empty unified v2 one beside them', () => {
  const cg = readCgroupLimits(fixture('hybrid'));
  assert.equal(cg.layout, 'hybrid');
  assert.equal(cg.cpuQuota?.version, 'v1');
  assert.equal(cg.cpuQuota?.cpus, 1);
  assert.equal(cg.cpuQuota?.file, '/sys/fs/cgroup/cpu/corral/cpu.cfs_quota_us');
  assert.equal(cg.memory?.bytes, 192 * MiB, 'the leaf limit; ancestors are unlimited');
  assert.equal(cg.cpuset?.cpus, 2);
});

test('no cgroups at all: nothing found, nothing thrown', () => {
  assert.deepEqual(readCgroupLimits(fixture('none')), {
    layout: 'none',
    cpuQuota: null,
    cpuset: null,
    memory: null,
  });
});

test('parsers: /proc/self/cgroup lines, mountinfo escapes, cpu lists', () => {
  assert.deepEqual(parseProcCgroup('3:cpu,cpuacct:/a:b\n0::/\n'), [
    { controllers: ['cpu', 'cpuacct'], path: '/a:b' },
    { controllers: [], path: '/' },
  ]);
  const [m] = parseMountinfo(
    '40 31 0:37 /x /sys/fs/my\\040cgroup rw shared:1 - cgroup cgroup rw,memory',
  );
  assert.equal(m?.point, '/sys/fs/my cgroup');
  assert.equal(m?.root, '/x');
  assert.ok(m?.controllers.includes('memory'));
  assert.equal(countCpuList('0-3,8,10-11'), 7);
  assert.equal(countCpuList(''), 0);
});

function host(over: Partial<Host>): Host {
  return {
    root: fixture('none'),
    availableParallelism: () => 8,
    constrainedMemory: () => 0,
    freemem: () => 16 * 2 ** 30,
    totalmem: () => 32 * 2 ** 30,
    rss: () => 50 * MiB,
    ...over,
  };
}

test('usable CPUs: the smallest of quota, cpuset and affinity, and which one won', () => {
  const r = readResources(host({ root: fixture('v1-docker') }));
  assert.equal(r.cpus.value, 1.5);
  assert.equal(r.cpus.source, 'cgroup v1 quota');
  assert.equal(r.cpus.detail, '150000/100000');
  assert.deepEqual(
    r.cpus.candidates.map((c) => [c.source, c.value]),
    [
      ['cgroup v1 quota', 1.5],
      ['cgroup v1 cpuset', 4],
      ['scheduler affinity', 8],
    ],
  );
  const affinity = readResources(
    host({ root: fixture('v1-docker'), availableParallelism: () => 1 }),
  );
  assert.equal(affinity.cpus.source, 'scheduler affinity');
  const cpuset = readResources(host({ root: fixture('v2-k8s'), availableParallelism: () => 6 }));
  assert.equal(cpuset.cpus.value, 2, 'quota 2 beats cpuset 6');
  const none = readResources(host({}));
  assert.equal(none.cpus.source, 'scheduler affinity');
  assert.equal(none.layout, 'none');
});

test('a tie goes to the cgroup fact that explains it, not the fallback it caused', () => {
  // libuv may already apply the quota to availableParallelism(): both say 1.
  const r = readResources(host({ root: fixture('hybrid'), availableParallelism: () => 1 }));
  assert.equal(r.cpus.source, 'cgroup v1 quota');
});

test('memory: cgroup limit, constrainedMemory() and host available; the smallest wins', () => {
  const r = readResources(host({ root: fixture('v1-docker'), constrainedMemory: () => 256 * MiB }));
  assert.equal(r.memory.value, 256 * MiB);
  assert.equal(r.memory.source, 'cgroup v1 limit');
  assert.equal(r.memory.file, '/sys/fs/cgroup/memory/memory.limit_in_bytes');
  assert.equal(r.memory.candidates.length, 3);
  const small = readResources(host({ root: fixture('v1-docker'), freemem: () => 100 * MiB }));
  assert.equal(small.memory.source, 'host available');
  // constrainedMemory() returns UINT64_MAX (or 0) without a limit: ignored.
  const unl = readResources(
    host({ root: fixture('v2-unlimited'), constrainedMemory: () => 2 ** 64 }),
  );
  assert.deepEqual(
    unl.memory.candidates.map((c) => c.source),
    ['host available'],
  );
});
