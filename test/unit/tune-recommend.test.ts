// corral tune's recommendation rule, its explanation, and the measurement warnings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Budget, recommend, verdict } from '../../src/tune/recommend.ts';
import { label, type Measured } from '../../src/tune/results.ts';
import { warnings } from '../../src/tune/warnings.ts';
import { async, fake, MiB, summary, sync, thread } from '../helpers/tune.ts';

const none: Budget = { maxP99: null, maxMemory: null };
const pick = (ms: Measured[], budget = none) => {
  const r = summary(ms, budget).recommended;
  return r ? { name: label(r.candidate), within: r.withinBudget, why: r.why } : null;
};

test('verdict: errors over 0.1%, the p99 budget and the memory budget each rule a candidate out', () => {
  assert.deepEqual(verdict(fake(async(2), 1000), none), { eligible: true, reasons: [] });
  const lossy = fake(async(2), 1000, 20, { errors: 50, requests: 6000 });
  assert.match(verdict(lossy, none).reasons.join(), /50 errors in 6050 requests/);
  assert.equal(
    verdict(fake(async(2), 1000, 20, { errors: 1, requests: 6000 }), none).eligible,
    true,
  );
  const slow = verdict(fake(async(2), 1000, 800), { maxP99: 500, maxMemory: null });
  assert.deepEqual(slow.reasons, ['p99 800 ms over --max-p99 500 ms']);
  const big = verdict(fake(async(9), 1000), { maxP99: null, maxMemory: 200 * MiB });
  assert.deepEqual(big.reasons, ['590 MiB over --max-memory 200 MiB']);
  const failed = fake(async(2), 0, 0, { status: 'failed', error: 'exited' });
  assert.deepEqual(verdict(failed, none).reasons, ['failed: exited']);
});

test('the most throughput wins; the why names the numbers, other counts and other classes', () => {
  const r = pick([
    fake(async(2), 1000, 30),
    fake(async(5), 900, 60),
    fake(sync(2), 700, 25),
    fake(thread(1, 2), 950, 40),
  ]);
  assert.equal(r?.name, 'async × 2');
  assert.equal(r?.within, true);
  assert.match(
    r?.why ?? '',
    /^async × 2 \(test\) is recommended for the most throughput within the budget: 1000 req\/s/,
  );
  assert.match(r?.why ?? '', /more: async × 5 −10% throughput, p99 60 ms/);
  assert.match(
    r?.why ?? '',
    /Best of the other classes: sync × 2 700 req\/s \(−30%\), p99 25 ms; thread 1 × 2 950 req\/s \(−5%\)/,
  );
});

test('within 3% is a tie: the lower p99 wins, then the smaller memory', () => {
  const byP99 = pick([fake(async(5), 1020, 60), fake(async(2), 1000, 30)]);
  assert.equal(byP99?.name, 'async × 2');
  assert.match(byP99?.why ?? '', /for a lower p99/);
  assert.match(
    byP99?.why ?? '',
    /async × 5 measured \+2% throughput \(p99 60 ms, 350 MiB\), within the 3% counted as a tie/,
  );
  // Same p99 (within 10%): the one using less memory.
  const byMemory = pick([fake(async(5), 1020, 30), fake(async(2), 1000, 31)]);
  assert.equal(byMemory?.name, 'async × 2');
  assert.match(byMemory?.why ?? '', /for less memory/);
  // 4% is not a tie.
  assert.equal(pick([fake(async(5), 1040, 60), fake(async(2), 1000, 30)])?.name, 'async × 5');
});

test('the budget excludes, and says so; with nothing eligible the closest is named, outside the budget', () => {
  const ms = [fake(async(5), 1500, 900), fake(async(2), 1000, 300)];
  const r = pick(ms, { maxP99: 500, maxMemory: null });
  assert.equal(r?.name, 'async × 2');
  assert.match(r?.why ?? '', /Not eligible: async × 5 \(p99 900 ms over --max-p99 500 ms\)/);
  const none2 = pick(ms, { maxP99: 100, maxMemory: null });
  assert.equal(none2?.within, false);
  assert.equal(none2?.name, 'async × 5');
  assert.match(none2?.why ?? '', /^No candidate met the budget\. Closest: async × 5/);
  assert.equal(recommend([]), null);
});

test('noisy runs are called out in the why', () => {
  const noisy = fake(async(2), 1000, 30, { spread: { rps: [700, 1300], p99: [20, 40] } });
  assert.match(pick([noisy])?.why ?? '', /varied by up to 60% of its median/);
});

test('warnings: the load generator at its limit, a saturated machine, busy neighbours', () => {
  const quiet = [fake(async(2), 1000)];
  assert.deepEqual(warnings(quiet, 8), []);
  const toolBound = [fake(async(2), 30000, 5, { loadgenCpu: 0.97 })];
  assert.match(
    warnings(toolBound, 8).join(),
    /load generator used up to 97% of a CPU .* at async × 2/,
  );
  // 2 CPUs, 8 workers: the machine is full, the generator takes ~0.9 CPU.
  const run = {
    rps: 900,
    p50: 10,
    p99: 20,
    requests: 1800,
    errors: 0,
    cpu: 1.1,
    loadgenCpu: 0.9,
    machineCpu: 2,
  };
  const full = [
    fake(async(2), 900, 20, { loadgenCpu: 0.9, runs: [run] }),
    fake(async(8), 900, 20, { loadgenCpu: 0.9, runs: [run] }),
  ];
  const w = warnings(full, 2).join('\n');
  assert.match(w, /machine was saturated .* its 2 CPUs busy\) at async × 2, async × 8/);
  assert.match(
    w,
    /leaving the server about 1\.1\. async × 2, async × 8 had more event loops than that/,
  );
  // Each candidate's own room: a neighbour's burst during one candidate does not count against all.
  const spiky = [
    fake(async(2), 900, 20, { loadgenCpu: 0.2, otherCpu: 0, runs: [run] }),
    fake(async(1), 900, 20, { loadgenCpu: 0.2, otherCpu: 1.5, runs: [run] }),
  ];
  assert.match(warnings(spiky, 2).join(), /leaving the server 0\.3–1\.8\.(?! async × 2)/);
  const busy = [fake(async(2), 1000, 20, { otherCpu: 0.8 })];
  assert.match(warnings(busy, 8).join(), /Other processes used up to 0\.80 CPUs/);
});
