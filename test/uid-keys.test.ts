import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HIDDEN_COLUMNS, KEY_COLUMNS } from '../src/engine/ingest.js';
import { Run, type OpenRunOptions } from '../src/engine/run.js';
import { quoteIdentifier } from '../src/engine/session.js';
import { chooseMetrics } from '../src/report/metric-choice.js';
import { runMetrics } from '../src/server/metrics.js';
import { FORMATS, tempDir } from './helpers/temp.js';

const dir = tempDir();
const hidden = [...HIDDEN_COLUMNS].map(quoteIdentifier).join(', ');

/**
 * The per-uid views against the join they replace: every per-uid row with its event's line, x,
 * ord and task as the `events` view has them. Returns whether the run used the copies (no
 * `event_keys` table) or the join.
 */
async function expectViewsMatchJoin(run: Run): Promise<'copies' | 'join'> {
  const s = run.session;
  const viewRows = await s.all(`SELECT * FROM uid_events ORDER BY file_id, rec, pos`);
  const joined = await s.all(
    `SELECT u.* EXCLUDE (${hidden}), e.line, e.x, e.ord, e.task
     FROM uid_rows u JOIN events e USING (file_id, rec) ORDER BY file_id, rec, pos`,
  );
  expect(viewRows.length).toBe(run.ingest.uidRows);
  expect(viewRows).toEqual(joined);
  const indexed = await s.all(`SELECT * FROM uid_indexed_events ORDER BY file_id, rec, kind, uid`);
  const indexedJoined = await s.all(
    `SELECT i.* EXCLUDE (${quoteIdentifier(KEY_COLUMNS.x)}), e.x, e.ord
     FROM uid_indexed i JOIN events e USING (file_id, rec) ORDER BY file_id, rec, kind, uid`,
  );
  expect(indexed.length).toBe(run.ingest.uidIndexedRows);
  expect(indexed).toEqual(indexedJoined);
  // The copies never show as fields of the log, nor as metrics of the report or the dashboard.
  const metrics = [
    ...(await chooseMetrics(run, { max: 1000 })).metrics.map((m) => m.column),
    ...(await runMetrics(run)).map((m) => m.name),
  ];
  expect(metrics.filter((m) => HIDDEN_COLUMNS.has(m))).toEqual([]);
  for (const column of HIDDEN_COLUMNS) {
    expect(run.storedColumns('uid_rows').has(column)).toBe(false);
    expect(Object.keys(viewRows[0] ?? {})).not.toContain(column);
  }
  const keys = await s.one<{ n: number }>(
    `SELECT CAST(count(*) AS INTEGER) AS n FROM duckdb_tables() WHERE table_name = 'event_keys'`,
  );
  return keys?.n ? 'join' : 'copies';
}

async function withRun<T>(
  input: string,
  options: OpenRunOptions,
  body: (run: Run) => Promise<T>,
): Promise<T> {
  const run = await Run.open(input, options);
  try {
    return await body(run);
  } finally {
    run.close();
  }
}

function writeLines(name: string, records: object[]): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

function validatorEvents(n: number, from = 0, extra: (i: number) => object = () => ({})): object[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      task_name: ['Store', 'Retrieve', 'Challenge'][i % 3],
      block: 1000 + 3 * i,
      uids: [i % 7, (i + 1) % 7, (i + 3) % 7],
      rewards: [0.1 * (i % 5), 0.2, -0.1 * (i % 3)],
      ...(i % 4 === 0
        ? {
            set_weights: [
              [0, 1, 2],
              [0.5, 0.25, 0.25],
            ],
            moving_averaged_scores: [0.1, 0.2, 0.3, 0.4],
          }
        : {}),
      ...extra(i),
    };
  });
}

describe('per-uid rows carry their event’s x, line and task', () => {
  it('FileTAO sample: the copies, equal to the join', async () => {
    const used = await withRun(path.join(FORMATS, 'filetao/events.json'), {}, async (run) => {
      expect(run.x.column).toBe('block');
      expect(run.ingest.uidIndexedRows).toBeGreaterThan(0);
      return expectViewsMatchJoin(run);
    });
    expect(used).toBe('copies');
  });

  it('OpenValidators sample: the copies, equal to the join', async () => {
    const used = await withRun(path.join(FORMATS, 'openvalidators/history.jsonl'), {}, expectViewsMatchJoin);
    expect(used).toBe('copies');
  });

  it('several files, x as the row ordinal and as a field asked for with --x', async () => {
    writeLines(
      'multi/a.jsonl',
      validatorEvents(40, 0, (i) => ({ step: i % 10 })),
    );
    writeLines(
      'multi/b.jsonl',
      validatorEvents(25, 40, (i) => ({ step: i % 10 })),
    );
    const root = path.join(dir, 'multi');
    for (const x of ['ordinal', 'step', undefined]) {
      const used = await withRun(root, { x }, async (run) => {
        expect(run.ingest.files.length).toBe(2);
        return expectViewsMatchJoin(run);
      });
      expect(used).toBe('copies');
    }
  });

  it('falls back to the join when the x predicted at the first per-uid event is not the x axis', async () => {
    // The first event has only `_step`; every later one has `block`, which becomes x.
    const records = validatorEvents(30);
    const first: Record<string, unknown> = { ...records[0], _step: 5 };
    delete first.block;
    const file = writeLines('mispredicted.jsonl', [first, ...records.slice(1)]);
    const used = await withRun(file, {}, async (run) => {
      expect(run.x.column).toBe('block');
      expect(run.ingest.uidKeys.x).toBe('_step');
      return expectViewsMatchJoin(run);
    });
    expect(used).toBe('join');
  });

  it('falls back to the join when the task field is stored as numbers', async () => {
    const file = writeLines(
      'numeric-task.jsonl',
      validatorEvents(12, 0, (i) => ({ task_name: i === 5 ? 'late text' : i })),
    );
    const used = await withRun(file, {}, async (run) => {
      expect(run.taskColumn).toBe('task_name');
      return expectViewsMatchJoin(run);
    });
    expect(used).toBe('join');
  });

  it('text x values stored as numbers, missing x and empty tasks give the same views', async () => {
    const file = writeLines(
      'odd-values.jsonl',
      validatorEvents(20, 0, (i) => ({
        ...(i === 3 ? { block: '1009' } : {}),
        ...(i === 4 ? { block: null } : {}),
        ...(i === 6 ? { task_name: '' } : {}),
        ...(i === 7 ? { block: 'not a block' } : {}),
      })),
    );
    const used = await withRun(file, {}, expectViewsMatchJoin);
    expect(used).toBe('copies');
  });

  it('a per-uid field named like a copy column is listed but does not overwrite the copy', async () => {
    const file = writeLines(
      'clash.jsonl',
      validatorEvents(10, 0, () => ({ [KEY_COLUMNS.x]: [7, 7, 7] })),
    );
    await withRun(file, {}, async (run) => {
      expect(run.ingest.fields.all().some((f) => f.path === KEY_COLUMNS.x)).toBe(true);
      expect(await expectViewsMatchJoin(run)).toBe('copies');
      const x = await run.session.all<{ x: number }>('SELECT DISTINCT x FROM uid_events ORDER BY x LIMIT 2');
      expect(x.map((r) => r.x)).toEqual([1000, 1003]);
    });
  });

  it('stays equal to the join after a live refresh appends events and files', async () => {
    const root = path.join(dir, 'live');
    const file = writeLines('live/events.jsonl', validatorEvents(10));
    await withRun(root, { live: true }, async (run) => {
      expect(await expectViewsMatchJoin(run)).toBe('copies');
      fs.appendFileSync(
        file,
        validatorEvents(7, 10)
          .map((r) => JSON.stringify(r))
          .join('\n') + '\n',
      );
      writeLines('live/more.jsonl', validatorEvents(5, 17));
      const result = await run.refresh();
      expect(result.newRows).toBe(12);
      expect(await expectViewsMatchJoin(run)).toBe('copies');
    });
  });
});
