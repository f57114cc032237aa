import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Run } from '../src/engine/run.js';
import { tempDir } from './helpers/temp.js';

async function steps(run: Run): Promise<number[]> {
  return (await run.session.all<{ step: number }>('SELECT step FROM events ORDER BY ord')).map((r) => r.step);
}

const line = (step: number): string => `{"step": ${step}, "loss": ${1 / (step + 1)}}\n`;

describe('Run.refresh reads only what a live run adds', () => {
  it('appended lines, a partial line held back until complete, a new file', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(log, line(0) + line(1) + '{"step": 2, "lo');
    const run = await Run.open(dir, { live: true });
    try {
      expect(await steps(run)).toEqual([0, 1]);
      expect(run.ingest.problemCount).toBe(0);
      expect((await run.summary()).rows).toBe(2);
      fs.appendFileSync(log, 'ss": 0.3}\n' + line(3));
      let result = await run.refresh();
      expect(result.newRows).toBe(2);
      expect(await steps(run)).toEqual([0, 1, 2, 3]);
      // The summary is cached per (re)index and follows the refresh.
      expect((await run.summary()).rows).toBe(4);
      expect((await run.summary()).x.max).toBe(3);
      expect(
        (await run.session.all<{ line: number }>('SELECT line FROM events ORDER BY ord')).map((r) => r.line),
      ).toEqual([1, 2, 3, 4]);
      result = await run.refresh();
      expect(result).toEqual({ newRows: 0, newFiles: [], reread: [] });
      fs.writeFileSync(path.join(dir, 'more.jsonl'), line(10));
      result = await run.refresh();
      expect(result.newFiles).toEqual(['more.jsonl']);
      expect(await steps(run)).toEqual([0, 1, 2, 3, 10]);
      // ord stays global across files after a refresh
      const ords = (
        await run.session.all<{ ord: number }>('SELECT CAST(ord AS INTEGER) AS ord FROM events ORDER BY ord')
      ).map((r) => r.ord);
      expect(ords).toEqual([0, 1, 2, 3, 4]);
      expect(run.ingest.files.map((f) => [f.name, f.rows])).toEqual([
        ['metrics.jsonl', 4],
        ['more.jsonl', 1],
      ]);
    } finally {
      run.close();
    }
  });

  it('a truncated or rotated file is read again from the start, its old rows replaced', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'events.jsonl');
    fs.writeFileSync(log, line(0) + line(1) + line(2));
    const run = await Run.open(dir, { live: true });
    try {
      fs.writeFileSync(log, line(7));
      let result = await run.refresh();
      expect(result.reread).toEqual(['events.jsonl']);
      expect(await steps(run)).toEqual([7]);
      fs.renameSync(log, path.join(dir, 'events.jsonl.1'));
      fs.writeFileSync(log, line(8));
      result = await run.refresh();
      expect(await steps(run)).toEqual([7, 8]);
      expect(run.ingest.rows).toBe(2);
      expect(run.ingest.files.map((f) => f.name)).toEqual(['events.jsonl.1', 'events.jsonl']);
    } finally {
      run.close();
    }
  });

  it('per-uid rows follow their events', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'events.json');
    const event = (block: number): string =>
      JSON.stringify({ task_name: 'Store', block, uids: [1, 2], rewards: [0.5, 0.25] }) + '\n';
    fs.writeFileSync(log, event(1));
    const run = await Run.open(dir, { live: true });
    try {
      fs.appendFileSync(log, event(2) + event(3));
      await run.refresh();
      const rows = await run.session.all<{ n: number; x: number }>(
        'SELECT CAST(count(*) AS INTEGER) AS n, max(x) AS x FROM uid_events',
      );
      expect(rows).toEqual([{ n: 6, x: 3 }]);
    } finally {
      run.close();
    }
  });
});
