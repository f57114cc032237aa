import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listCache } from '../src/engine/run-cache.js';
import { Run, type OpenRunOptions } from '../src/engine/run.js';
import { simulate } from '../src/simulate/index.js';
import { tempDir } from './helpers/temp.js';

/** Every event and per-uid row of a run as plain data, in row order (what any chart is made of). */
async function contents(run: Run): Promise<unknown> {
  const plain = (rows: Record<string, unknown>[]) =>
    JSON.parse(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
  return {
    events: plain(await run.session.all('SELECT * EXCLUDE (file_id) FROM events ORDER BY ord')),
    uids: plain(await run.session.all('SELECT * EXCLUDE (file_id) FROM uid_events ORDER BY ord, pos')),
    indexed: plain(
      await run.session.all('SELECT * EXCLUDE (file_id) FROM uid_indexed_events ORDER BY ord, uid'),
    ),
  };
}

async function open(input: string, options: OpenRunOptions): Promise<Run> {
  return Run.open(input, options);
}

/** The run read afresh into a temporary index: what every incremental update must equal. */
async function fresh(input: string): Promise<unknown> {
  const run = await open(input, { cache: false });
  try {
    return await contents(run);
  } finally {
    run.close();
  }
}

const event = (block: number, uids: number[], extra: Record<string, unknown> = {}): string =>
  `${JSON.stringify({ task_name: block % 2 ? 'Store' : 'Retrieve', block, uids, rewards: uids.map((u) => u / 10), ...extra })}\n`;

describe('the run index persists and grows', () => {
  it('a second look at an unchanged run reads nothing and answers the same', async () => {
    const cache = tempDir();
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: 300_000, seed: 3 });
    const log = path.join(dir, 'events.json');
    const first = await open(log, { cache });
    const before = await contents(first);
    expect(first.lastChange.bytesRead).toBe(fs.statSync(log).size);
    first.close();
    const second = await open(log, { cache });
    try {
      expect(second.lastChange.bytesRead).toBe(0);
      expect(second.lastChange.newRows).toBe(0);
      expect(await contents(second)).toEqual(before);
      expect(await fresh(log)).toEqual(before);
    } finally {
      second.close();
    }
    const cached = listCache(cache);
    expect(cached).toHaveLength(1);
    expect(cached[0].run).toBe(log);
    expect(cached[0].bytes).toBeGreaterThan(0);
  });

  it('reads only the bytes appended; a partial last line waits and is reported, then read once complete', async () => {
    const cache = tempDir();
    const dir = tempDir();
    const log = path.join(dir, 'events.json');
    fs.writeFileSync(log, event(1, [1, 2]) + event(2, [3]));
    let run = await open(log, { cache });
    run.close();
    const appended = event(3, [1, 4, 5]) + event(4, [2]);
    fs.appendFileSync(log, appended + '{"task_name": "Store", "block": 5, "ui');
    run = await open(log, { cache });
    try {
      expect(run.lastChange.appended).toEqual(['events.json']);
      expect(run.lastChange.bytesRead).toBe(Buffer.byteLength(appended));
      expect(run.lastChange.newRows).toBe(2);
      expect(run.ingest.rows).toBe(4);
      expect(run.ingest.problems).toEqual([
        expect.objectContaining({ file: 'events.json', line: 5, kind: 'truncated' }),
      ]);
      expect(run.ingest.files[0].problems).toEqual({ truncated: 1 });
      const lines = await run.session.all<{ line: number; rec: number }>(
        'SELECT line, rec FROM events ORDER BY ord',
      );
      expect(lines).toEqual([1, 2, 3, 4].map((line) => ({ line, rec: line - 1 })));
    } finally {
      run.close();
    }
    fs.appendFileSync(log, 'ds": [7], "rewards": [0.7]}\n');
    run = await open(log, { cache });
    try {
      expect(run.lastChange.newRows).toBe(1);
      expect(run.ingest.problemCount).toBe(0);
      expect(await contents(run)).toEqual(await fresh(log));
    } finally {
      run.close();
    }
  });

  it('a live run holds a partial last line back without reporting it', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'events.json');
    fs.writeFileSync(log, event(1, [1]) + '{"block": 2');
    const run = await open(log, { cache: tempDir(), live: true });
    try {
      expect(run.ingest.rows).toBe(1);
      expect(run.ingest.problemCount).toBe(0);
      fs.appendFileSync(log, ', "uids": [2], "rewards": [1.5]}\n');
      expect((await run.refresh()).newRows).toBe(1);
      expect(await run.session.all('SELECT x, uid, rewards FROM uid_events ORDER BY ord')).toEqual([
        { x: 1, uid: 1, rewards: 0.1 },
        { x: 2, uid: 2, rewards: 1.5 },
      ]);
    } finally {
      run.close();
    }
  });

  it('a rewritten or truncated file is read again, a vanished one dropped, a renamed one found again', async () => {
    const cache = tempDir();
    const dir = tempDir();
    const log = path.join(dir, 'events.json');
    fs.writeFileSync(log, event(1, [1]) + event(2, [2]) + event(3, [3]));
    fs.writeFileSync(path.join(dir, 'other.jsonl'), event(9, [9]));
    (await open(dir, { cache })).close();
    // Rewritten: same size, other bytes.
    fs.writeFileSync(log, event(4, [1]) + event(5, [2]) + event(6, [3]));
    let run = await open(dir, { cache });
    expect(run.lastChange.reread).toEqual(['events.json']);
    expect(await contents(run)).toEqual(await fresh(dir));
    run.close();
    // Truncated, and the other file gone.
    fs.writeFileSync(log, event(4, [1]));
    fs.rmSync(path.join(dir, 'other.jsonl'));
    run = await open(dir, { cache });
    expect(run.lastChange.reread).toEqual(['events.json']);
    expect(run.lastChange.dropped).toEqual(['other.jsonl']);
    expect(run.ingest.rows).toBe(1);
    expect(await contents(run)).toEqual(await fresh(dir));
    run.close();
    // Rotated: the file becomes events.json.1 (and grows by a line first); a new events.json starts.
    fs.appendFileSync(log, event(5, [2]));
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, event(6, [3]));
    run = await open(dir, { cache });
    try {
      expect(run.lastChange.newFiles).toEqual(['events.json']);
      expect(run.lastChange.reread).toEqual([]);
      // events.json.1 was found again: only its appended line and the new file were read.
      expect(run.lastChange.bytesRead).toBe(Buffer.byteLength(event(5, [2]) + event(6, [3])));
      expect(run.ingest.files.map((f) => [f.name, f.rows])).toEqual([
        ['events.json.1', 2],
        ['events.json', 1],
      ]);
      expect(await contents(run)).toEqual(await fresh(dir));
    } finally {
      run.close();
    }
  });

  it('a large file read in parts gives the index of one read, and a run of each part on the way', async () => {
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: 400_000, seed: 5 });
    const log = path.join(dir, 'events.json');
    const partial: number[] = [];
    const run = await open(log, {
      cache: tempDir(),
      chunkBytes: 100_000,
      onPartial: (part) => {
        partial.push(part.ingest.rows);
        expect(part.partial).toBe(true);
        part.close();
      },
    });
    try {
      expect(partial.length).toBeGreaterThanOrEqual(3);
      expect(partial).toEqual([...partial].sort((a, b) => a - b));
      expect(partial.at(-1)).toBe(run.ingest.rows);
      expect(await contents(run)).toEqual(await fresh(log));
    } finally {
      run.close();
    }
  });
});

describe('many files', () => {
  /** Records whose `step` resets every `period` records and is missing from every 7th. */
  const records = (file: number, from: number, count: number, period: number) =>
    Array.from({ length: count }, (_, k) => {
      const j = from + k;
      return {
        ...(j % 7 === 3 ? {} : { step: j % period }),
        total_steps: 1000 * file + j,
        rewards: { total: (j * 37) % 11 },
      };
    });
  /** present / decreases of a field over records in order (decreases between its present values). */
  const brute = (rows: readonly Record<string, unknown>[], key: string) => {
    const values = rows.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
    return { present: values.length, decreases: values.filter((v, i) => i > 0 && v < values[i - 1]).length };
  };
  /** Each file's order statistics as the index keeps them, by file name and field. */
  const orderOf = async (run: Run) => {
    const rows = await run.session.all<{ path: string; column: string; present: number; decreases: number }>(
      `SELECT f.path, o."column", o.present, o.decreases FROM runlens_order o JOIN runlens_files f USING (file_id)`,
    );
    return Object.fromEntries(
      rows.map((r) => [
        `${path.basename(r.path)} ${r.column}`,
        { present: r.present, decreases: r.decreases },
      ]),
    );
  };

  it('are read in batches that give the index of one read; each file’s x order statistics are counted over its records', async () => {
    const dir = tempDir();
    const written = new Map<string, Record<string, unknown>[]>();
    for (let i = 0; i < 6; i++) {
      const rows = records(i, 0, 300 + 40 * i, 5 + i);
      written.set(`part-${i}.json`, rows);
      fs.writeFileSync(path.join(dir, `part-${i}.json`), JSON.stringify(rows, null, 2));
    }
    const lines = records(9, 0, 208, 13);
    written.set('live.jsonl', lines);
    fs.writeFileSync(path.join(dir, 'live.jsonl'), lines.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const expected = () =>
      Object.fromEntries(
        [...written].flatMap(([name, rows]) =>
          ['step', 'total_steps'].map((key) => [`${name} ${key}`, brute(rows, key)]),
        ),
      );
    const cache = tempDir();
    const batched = await open(dir, { cache, chunkBytes: 60_000 });
    try {
      const chunks = await batched.session.one<{ n: number }>(
        'SELECT CAST(count(DISTINCT chunk) AS DOUBLE) AS n FROM runlens_chunks',
      );
      expect(chunks?.n).toBeGreaterThanOrEqual(4);
      expect(await orderOf(batched)).toEqual(expected());
      expect(await contents(batched)).toEqual(await fresh(dir));
    } finally {
      batched.close();
    }
    const whole = await open(dir, { cache: false });
    try {
      const chunks = await whole.session.one<{ n: number }>(
        'SELECT CAST(count(DISTINCT chunk) AS DOUBLE) AS n FROM runlens_chunks',
      );
      expect(chunks?.n).toBe(2);
      expect(await orderOf(whole)).toEqual(expected());
    } finally {
      whole.close();
    }
    // An append whose first step is below the last one before it: one more decrease, counted across the seam.
    const more = records(9, 208, 50, 13);
    expect(more[0].step).toBeLessThan(lines.at(-1)!.step as number);
    written.set('live.jsonl', [...lines, ...more]);
    fs.appendFileSync(path.join(dir, 'live.jsonl'), more.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const after = await open(dir, { cache, chunkBytes: 60_000 });
    try {
      expect(after.lastChange.appended).toHaveLength(1);
      expect(await orderOf(after)).toEqual(expected());
    } finally {
      after.close();
    }
  });
});

describe('what DuckDB cannot read is read carefully, every good row kept', () => {
  it('a byte order mark, CRLF, a corrupt and a non-object line, a gzip member', async () => {
    const dir = tempDir();
    const good = event(1, [1, 2]) + event(2, [3]);
    fs.writeFileSync(path.join(dir, 'a.jsonl'), `\uFEFF${good.replaceAll('\n', '\r\n')}`);
    fs.writeFileSync(
      path.join(dir, 'b.jsonl'),
      `${event(3, [4])}{"block": 4, oops\n[1, 2]\n${event(5, [5])}`,
    );
    fs.writeFileSync(path.join(dir, 'c.jsonl.gz'), zlib.gzipSync(event(6, [6])));
    const run = await open(dir, { cache: tempDir() });
    try {
      expect(run.ingest.files.map((f) => [f.name, f.rows, f.problems])).toEqual([
        ['a.jsonl', 2, {}],
        ['b.jsonl', 2, { corrupt: 1, 'not-an-object': 1 }],
        ['c.jsonl.gz', 1, {}],
      ]);
      expect(run.ingest.problems.map((p) => `${p.file}:${p.line} ${p.kind}`)).toEqual([
        'b.jsonl:2 corrupt',
        'b.jsonl:3 not-an-object',
      ]);
      const rows = await run.session.all<{ block: number; line: number }>(
        'SELECT block, line FROM events ORDER BY ord',
      );
      expect(rows).toEqual([
        { block: 1, line: 1 },
        { block: 2, line: 2 },
        { block: 3, line: 1 },
        { block: 5, line: 4 },
        { block: 6, line: 1 },
      ]);
    } finally {
      run.close();
    }
  });

  it('a type that changes: the first value decides, text in a number column is a counted conflict', async () => {
    const dir = tempDir();
    const lines = [
      { step: 1, best_uid: 4, note: 'a' },
      { step: 2, best_uid: '', note: 'b' },
      { step: 3, best_uid: 'none', note: 7 },
      { step: 4, best_uid: '12', note: 'c' },
    ];
    // Far enough apart that the probe's sample sees only numbers for best_uid.
    const filler = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ step: 10 + i, best_uid: i })).join(
      '\n',
    );
    fs.writeFileSync(
      path.join(dir, 'log.jsonl'),
      `${JSON.stringify(lines[0])}\n${filler}\n${lines
        .slice(1)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    );
    const run = await open(dir, { cache: tempDir() });
    try {
      expect(run.columns.scalars.get('best_uid')).toBe('DOUBLE');
      expect(run.columns.scalars.get('note')).toBe('VARCHAR');
      const tail = await run.session.all(
        'SELECT step, best_uid, note FROM events WHERE step < 10 ORDER BY ord',
      );
      expect(tail).toEqual([
        { step: 1, best_uid: 4, note: 'a' },
        { step: 2, best_uid: null, note: 'b' },
        { step: 3, best_uid: null, note: '7' },
        { step: 4, best_uid: 12, note: 'c' },
      ]);
      expect((await run.fieldCatalog()).conflicts.get('best_uid')).toBe(1);
      expect(run.ingest.rows).toBe(3004);
    } finally {
      run.close();
    }
  });

  it('CSV and pretty-printed objects', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'm.csv'), 'step,loss,tag\n1,0.5,a\n2,NaN,b\n3,,"c,d"\n');
    fs.writeFileSync(
      path.join(dir, 'p.json'),
      '{\n  "step": 4,\n  "loss": 0.25\n}\n{\n  "step": 5,\n  "loss": 0.125\n}\n',
    );
    const run = await open(dir, { cache: tempDir() });
    try {
      const rows = await run.session.all<{ step: number; loss: number | null; tag: string | null }>(
        'SELECT step, loss, tag FROM events ORDER BY ord',
      );
      expect(rows.map((r) => [r.step, Number.isNaN(r.loss) ? 'NaN' : r.loss, r.tag])).toEqual([
        [1, 0.5, 'a'],
        [2, 'NaN', 'b'],
        [3, null, 'c,d'],
        [4, 0.25, null],
        [5, 0.125, null],
      ]);
    } finally {
      run.close();
    }
  });

  it('fields whose names differ only in case are two columns', async () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'log.jsonl'),
      '{"step": 1, "Loss": 1.5, "loss": 2.5, "m": {"A": 1, "a": 2}}\n{"step": 2, "Loss": 3.5, "loss": 4.5, "m": {"A": 3, "a": 4}}\n',
    );
    const run = await open(dir, { cache: tempDir() });
    try {
      const names = [...run.columns.scalars.keys()];
      expect(names).toEqual(expect.arrayContaining(['Loss', 'loss~2', 'm.A', 'm.a~2']));
      expect(
        await run.session.all('SELECT "Loss", "loss~2", "m.A", "m.a~2" FROM events ORDER BY ord'),
      ).toEqual([
        { Loss: 1.5, 'loss~2': 2.5, 'm.A': 1, 'm.a~2': 2 },
        { Loss: 3.5, 'loss~2': 4.5, 'm.A': 3, 'm.a~2': 4 },
      ]);
      const paths = (await run.fieldCatalog()).fields.map((f) => f.path);
      expect(paths).toEqual(expect.arrayContaining(['Loss', 'loss', 'm.A', 'm.a']));
    } finally {
      run.close();
    }
  });
});

describe('fields outside the records the columns were declared from', () => {
  const line = (i: number, extra = '') =>
    `{"step": ${i}, "loss": ${1 / (i + 1)}, "m": {"a": ${i}${extra ? ', "b": 1' : ''}}${extra}}\n`;
  /** ~20 MB of lines, 50 of which hold a field (`rare`, and `m.b`) the probe does not see. */
  function hiddenFieldLines(field = 'rare'): string {
    // The probe reads its start, its end and 64 windows of 32 kB; a field held only by a
    // stretch of lines between two windows is not among what it sees.
    const lines: string[] = [];
    for (let i = 0; i < 400_000; i++) lines.push(line(i));
    const size = lines.join('').length;
    const window = (w: number) => Math.floor((size * w) / 65);
    // Lines starting 40 kB after window 20 (windows are 32 kB long): a stretch no window reaches.
    let at = 0;
    let first = -1;
    for (let i = 0; i < lines.length; i++) {
      if (at > window(20) + 40_000 && first < 0) first = i;
      at += lines[i].length;
    }
    for (let i = first; i < first + 50; i++) lines[i] = line(i, `, "${field}": "x"`);
    return lines.join('');
  }

  it('are found by inspect’s check of every record, and the file is read again declaring them', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'events.jsonl');
    fs.writeFileSync(log, hiddenFieldLines());
    const run = await open(log, { cache: tempDir() });
    try {
      expect(run.columns.scalars.has('rare')).toBe(false);
      expect(await run.checkMembers()).toEqual(expect.arrayContaining(['rare', 'm.b']));
      expect(run.columns.scalars.get('rare')).toBe('VARCHAR');
      const rows = await run.session.all<{ n: number; b: number }>(
        'SELECT CAST(count(rare) AS INTEGER) AS n, CAST(sum("m.b") AS INTEGER) AS b FROM events',
      );
      expect(rows).toEqual([{ n: 50, b: 50 }]);
      expect(run.ingest.rows).toBe(400_000);
      // Checked once: a second check reads nothing and finds nothing.
      expect(await run.checkMembers()).toEqual([]);
    } finally {
      run.close();
    }
  });

  it('are checked in every file at once, each file answering for its own records', async () => {
    const dir = tempDir();
    const cache = tempDir();
    // Files in name order: a clean one before and after the one with the hidden field.
    fs.writeFileSync(path.join(dir, 'a.jsonl'), [0, 1, 2].map((i) => line(i)).join(''));
    fs.writeFileSync(path.join(dir, 'b.jsonl'), hiddenFieldLines());
    fs.writeFileSync(path.join(dir, 'c.jsonl'), [5, 6].map((i) => line(i)).join(''));
    let run = await open(dir, { cache });
    try {
      expect(run.columns.scalars.has('rare')).toBe(false);
      expect(await run.checkMembers()).toEqual(expect.arrayContaining(['rare', 'm.b']));
      const rows = await run.session.all<{ file: string; n: number; rare: number }>(
        `SELECT f.name AS file, CAST(count(*) AS INTEGER) AS n, CAST(count(rare) AS INTEGER) AS rare
         FROM events e JOIN runlens_files f USING (file_id) GROUP BY f.name ORDER BY f.name`,
      );
      expect(rows).toEqual([
        { file: 'a.jsonl', n: 3, rare: 0 },
        { file: 'b.jsonl', n: 400_000, rare: 50 },
        { file: 'c.jsonl', n: 2, rare: 0 },
      ]);
    } finally {
      run.close();
    }
    // Lines appended to two files: only the appended bytes are checked, and those of one of them
    // hold a field the probe of the append did not see.
    fs.appendFileSync(path.join(dir, 'a.jsonl'), hiddenFieldLines('later'));
    fs.appendFileSync(path.join(dir, 'c.jsonl'), line(7));
    run = await open(dir, { cache });
    try {
      expect(run.columns.scalars.has('later')).toBe(false);
      const found = await run.checkMembers();
      expect(found).toContain('later');
      expect(found).not.toContain('rare');
      const later = await run.session.all<{ n: number }>(
        'SELECT CAST(count(later) AS INTEGER) AS n FROM events',
      );
      expect(later).toEqual([{ n: 50 }]);
      expect(run.ingest.rows).toBe(400_000 * 2 + 3 + 3);
      expect(await run.checkMembers()).toEqual([]);
    } finally {
      run.close();
    }
  });
});

describe('the cache', () => {
  it('--no-cache leaves nothing behind; a cache over its size limit drops the least recently used run', async () => {
    const cache = tempDir();
    const dir = tempDir();
    for (const name of ['a', 'b', 'c'])
      fs.writeFileSync(path.join(dir, `${name}.jsonl`), event(1, [1]).repeat(50));
    (await open(path.join(dir, 'a.jsonl'), { cache: false })).close();
    expect(listCache(cache)).toEqual([]);
    (await open(path.join(dir, 'a.jsonl'), { cache })).close();
    (await open(path.join(dir, 'b.jsonl'), { cache })).close();
    const one = listCache(cache)[0].bytes;
    const limit = process.env.RUNLENS_CACHE_SIZE;
    process.env.RUNLENS_CACHE_SIZE = String(Math.floor(one * 2.5));
    try {
      (await open(path.join(dir, 'c.jsonl'), { cache })).close();
    } finally {
      if (limit === undefined) delete process.env.RUNLENS_CACHE_SIZE;
      else process.env.RUNLENS_CACHE_SIZE = limit;
    }
    expect(
      listCache(cache)
        .map((r) => path.basename(r.run))
        .sort(),
    ).toEqual(['b.jsonl', 'c.jsonl']);
  });

  it('a run whose index another process holds is read into a temporary index, with a note', async () => {
    const cache = tempDir();
    const dir = tempDir();
    const log = path.join(dir, 'events.json');
    fs.writeFileSync(log, event(1, [1, 2]));
    const script = `
      const { Run } = await import(${JSON.stringify(path.resolve('dist/engine/run.js'))});
      const run = await Run.open(${JSON.stringify(log)}, { cache: ${JSON.stringify(cache)} });
      process.stdout.write('open\\n');
      await new Promise((r) => setTimeout(r, 30000));`;
    // The built module (npm test builds first), in another process.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
        child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      const notes: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string) => (
        notes.push(String(chunk)),
        true
      )) as typeof process.stderr.write;
      let run: Run;
      try {
        run = await open(log, { cache });
      } finally {
        process.stderr.write = write;
      }
      expect(run.cacheDir).toBeUndefined();
      expect(run.ingest.rows).toBe(1);
      expect(notes.join('')).toMatch(/in use by another runlens process/);
      run.close();
    } finally {
      child.kill();
    }
  });
});
