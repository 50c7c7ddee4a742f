import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineSink } from '../../src/log/line-sink.ts';

const file = () => join(mkdtempSync(join(tmpdir(), 'corral-sink-')), 'out.log');
const read = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);

test('lines of one turn leave in order, and flush() resolves once they are written', async () => {
  const f = file();
  const sink = new LineSink({ target: f });
  for (let i = 0; i < 1000; i++) sink.write(`line ${i}\n`);
  await sink.flush();
  assert.deepEqual(
    read(f),
    Array.from({ length: 1000 }, (_, i) => `line ${i}`),
  );
  await sink.close();
});

test('past maxBuffered, lines are dropped and reported instead of held', async () => {
  const f = file();
  const reported: number[] = [];
  const sink = new LineSink({ target: f, maxBuffered: 1000, onDrop: (n) => reported.push(n) });
  // 100 lines of 100 bytes in one turn: only 10 fit in the 1000-byte buffer.
  const line = `${'x'.repeat(99)}\n`;
  for (let i = 0; i < 100; i++) sink.write(line);
  await sink.flush();
  assert.equal(read(f).length, 10);
  assert.equal(sink.droppedTotal, 90);
  assert.deepEqual(reported, [90]);
  await sink.close();
});
