import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { boundedMemoryLimit, type Session } from '../engine/session.js';
import { UserError } from '../errors.js';
import { ident, lit, sql, type Sql } from '../engine/sql.js';
import type { ExportFormat, ExportMode } from './export-options.js';
import { finalQuery } from './export-queries.js';

const HELPERS = new Set(['_run', '_ord', '_pos', '_first']);

export interface OutputPlan {
  mode: ExportMode;
  format: ExportFormat;
  columns?: readonly string[];
  dedupe?: boolean;
  withScores?: boolean;
  runIds: boolean;
}

/** Where the rows go: a new file (written beside, then renamed), or appended to an existing one. */
export interface OutputTarget {
  path: string;
  append: boolean;
  /** CSV appends keep the first export's header: these columns, in this order. */
  header?: readonly string[];
}

/**
 * Writes the rows of `staged` (a relation of the session: one run's query, or the staged parts
 * of several runs) with one streaming COPY: dedupe / the presets applied, converted for the format
 * (JSON has no NaN; CSV cells hold lists as JSON). The session must preserve insertion order.
 * Returns the rows and columns written.
 */
export async function writeOutput(
  session: Session,
  plan: OutputPlan,
  target: OutputTarget,
  onProgress?: (fraction: number) => void,
): Promise<{ rows: number; columns: string[] }> {
  // The output's directory is created like `plot --out` creates its own.
  mkdirSync(dirname(resolve(target.path)), { recursive: true });
  const temp = `${target.path}.tmp-${process.pid}`;
  try {
    const staged = (await describe(session, sql`SELECT * FROM staged`))
      .map((c) => c.name)
      .filter((c) => !HELPERS.has(c));
    const columns = plan.columns ? plan.columns.filter((c) => staged.includes(c) || c === 'run_id') : staged;
    const final = finalQuery(plan.mode, columns, plan);
    const types = (await describe(session, final.sql)).filter((c) => c.name !== '_order');
    const wanted = [...(target.header ?? types.map((c) => c.name))];
    const select = wanted.map((name) => {
      const type = types.find((t) => t.name === name)?.type;
      return sql`${type === undefined ? sql`NULL` : convert(ident(name), type, plan.format)} AS ${ident(name)}`;
    });
    const options =
      plan.format === 'parquet'
        ? sql`FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${lit(await rowGroupSize(session))}`
        : plan.format === 'csv'
          ? sql`FORMAT csv, HEADER ${lit(!target.append)}`
          : sql`FORMAT json`;
    const copy = sql`COPY (SELECT ${select} FROM (${final.sql}) ${final.ordered ? sql`ORDER BY _order` : sql``})
      TO ${lit(temp)} (${options})`;
    const rows = await withProgress(session, onProgress, async () =>
      Number(
        (await oneThread(session, () => session.all<{ Count: bigint | number }>(copy.text)))[0]?.Count ?? 0,
      ),
    ).catch((error: unknown) => {
      throw tooWide(error, plan.format);
    });
    if (target.append) {
      if (rows > 0) await pipeline(createReadStream(temp), createWriteStream(target.path, { flags: 'a' }));
      rmSync(temp, { force: true });
    } else renameSync(temp, target.path);
    return { rows, columns: wanted };
  } finally {
    rmSync(temp, { force: true });
  }
}

/** One of several runs' rows (`staged`, helper columns included) as a parquet part, in order. */
export async function stageRows(
  session: Session,
  part: string,
  onProgress?: (fraction: number) => void,
): Promise<void> {
  const size = await rowGroupSize(session);
  await withProgress(session, onProgress, () =>
    oneThread(session, () =>
      session.run(sql`COPY staged TO ${lit(part)} (FORMAT parquet, ROW_GROUP_SIZE ${lit(size)})`.text),
    ),
  );
}

/**
 * Rows per parquet row group so that one group stays near 8 MB as its values print (a sample of
 * the rows): the writer holds a whole group in memory, several times its size in the file (lists
 * of repeated text are dictionary-encoded there). A per-event row with fifty-entry lists can be
 * 10 kB, a FileTAO per-uid row 100 bytes.
 */
async function rowGroupSize(session: Session): Promise<number> {
  const row = await session.one<{ bytes: number | null }>(
    'SELECT avg(strlen(CAST(t AS VARCHAR))) AS bytes FROM (SELECT * FROM staged LIMIT 2048) t',
  );
  const perRow = row?.bytes || 1000;
  return Math.max(2048, Math.min(122_880, Math.floor((8 * 1024 * 1024) / perRow)));
}

async function describe(session: Session, query: Sql): Promise<{ name: string; type: string }[]> {
  const rows = await session.all<{ column_name: string; column_type: string }>(`DESCRIBE ${query.text}`);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/** A column as the format needs it: JSON has no NaN/Infinity (→ null); CSV holds lists as JSON text. */
function convert(column: Sql, type: string, format: ExportFormat): Sql {
  if (format === 'parquet') return column;
  const isFloat = (t: string) => t === 'DOUBLE' || t === 'FLOAT';
  if (isFloat(type))
    return format === 'jsonl' ? sql`CASE WHEN isfinite(${column}) THEN ${column} END` : column;
  if (!type.endsWith('[]')) return column;
  const list = isFloat(type.slice(0, -2))
    ? sql`list_transform(${column}, v -> CASE WHEN isfinite(v) THEN v END)`
    : column;
  return format === 'csv' ? sql`CAST(to_json(${list}) AS VARCHAR)` : list;
}

/**
 * DuckDB renders JSON text 2048 rows at a time: rows with many long lists (an OpenValidators
 * event's two dozen vectors) can need more than its memory limit. Says what to do instead.
 */
function tooWide(error: unknown, format: ExportFormat): unknown {
  if (format === 'parquet' || !/Out of Memory/i.test(String((error as Error)?.message))) return error;
  return new UserError(`these rows are too wide to write as ${format} within DuckDB's memory limit`, {
    hint:
      'export to .parquet, keep fewer lists (--columns), use --explode, or raise RUNLENS_MEMORY_LIMIT (now ' +
      boundedMemoryLimit() +
      ')',
    cause: error,
  });
}

/**
 * Runs `work` on one DuckDB thread. A COPY that keeps the rows' order holds each thread's batch
 * (the rows from one source row group: 122 880 events, or all their per-uid rows) until its turn,
 * outside the memory limit: on two threads a FileTAO per-(event, uid) export ran out of memory and
 * a per-event one took 2.7 times the memory, in the same time as on one.
 */
async function oneThread<T>(session: Session, work: () => Promise<T>): Promise<T> {
  const before = await session.one<{ threads: string }>("SELECT current_setting('threads') AS threads");
  await session.run('SET threads = 1');
  try {
    return await work();
  } finally {
    await session.run(`SET threads = ${Number(before?.threads ?? 1)}`);
  }
}

/** Runs `work`, telling `onProgress` DuckDB's estimate of the fraction done every 200 ms. */
async function withProgress<T>(
  session: Session,
  onProgress: ((f: number) => void) | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!onProgress) return work();
  const timer = setInterval(() => {
    const percentage = session.connection.progress.percentage;
    if (percentage >= 0) onProgress(Math.min(1, percentage / 100));
  }, 200);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
