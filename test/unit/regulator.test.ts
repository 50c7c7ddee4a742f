import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Regulator } from '../../src/master/regulator.ts';

/** Feed one sample a second from t0; returns the decisions. */
function feed(
  r: Regulator,
  t0: number,
  seconds: number,
  elu: number,
  workers: number,
  waiting = 0,
) {
  return Array.from({ length: seconds }, (_, i) =>
    r.sample({ elu, waiting, workers }, t0 + i * 1000),
  );
}

test('advisor: busy at the ceiling for 10 s is under-provisioned, with a suggestion', () => {
  const r = new Regulator(null);
  const d = feed(r, 0, 12, 0.97, 2);
  assert.equal(d[5]?.advice, null, 'not before the window is full');
  assert.match(
    d.at(-1)?.advice ?? '',
    /^under-provisioned: 2 worker\(s\) 97% busy for 10 s: try -w 3 or -w adaptive/,
  );
  const waiting = feed(new Regulator(null), 0, 12, 0.5, 2, 7).at(-1)?.advice;
  assert.match(waiting ?? '', /with 7 connection\(s\) waiting/);
});

test('advisor: idle for 10 minutes with 4 workers is over-provisioned', () => {
  const r = new Regulator(null);
  const d = feed(r, 0, 601, 0.05, 4);
  assert.equal(d[300]?.advice, null);
  assert.match(
    d.at(-1)?.advice ?? '',
    /^over-provisioned: 4 workers below 20% busy for 10 min: 1 would do; try -w 1 or -w adaptive$/,
  );
  assert.equal(feed(new Regulator(null), 0, 601, 0.5, 4).at(-1)?.advice, null, 'half busy is fine');
});

test('adaptive: one step up after 3 s busy, cool-down, one step down after 20 s idle; never past the range', () => {
  const r = new Regulator({ min: 1, max: 2 });
  const up = feed(r, 0, 5, 0.95, 1);
  const firstUp = up.findIndex((d) => d.scale);
  assert.equal(up[firstUp]?.scale?.to, 2);
  assert.match(up[firstUp]?.scale?.why ?? '', /busy for 3 s/);
  // At the ceiling: busy longer changes nothing.
  assert.ok(feed(r, 10_000, 30, 0.95, 2).every((d) => !d.scale));
  // Hysteresis: 50% busy neither grows nor shrinks.
  assert.ok(feed(r, 50_000, 40, 0.5, 2).every((d) => !d.scale));
  const down = feed(r, 100_000, 25, 0.05, 2);
  assert.deepEqual(
    down.filter((d) => d.scale).map((d) => d.scale?.to),
    [1],
  );
  assert.ok(
    feed(r, 200_000, 40, 0.01, 1).every((d) => !d.scale),
    'never below the minimum',
  );
});

test('advisor: a finding keeps its kind while its figures change (the master logs it once)', () => {
  const r = new Regulator(null);
  const d = [
    ...feed(r, 0, 11, 0.9, 2),
    ...feed(r, 11_000, 5, 0.95, 2, 3),
    ...feed(r, 16_000, 5, 0.99, 2, 30),
  ].slice(10);
  assert.ok(d.every((x) => x.finding === 'under-provisioned'));
  assert.ok(new Set(d.map((x) => x.advice)).size > 1, 'the text follows the figures');
  assert.ok(d.every((x) => x.advice?.startsWith('under-provisioned: ')));
  const calm = feed(r, 21_000, 12, 0.3, 2);
  assert.equal(calm.at(-1)?.finding, null);
  assert.equal(calm.at(-1)?.advice, null);
});
