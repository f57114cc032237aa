import { dirname, resolve } from 'node:path';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { boundedMemoryLimit, quoteIdentifier as q, quoteString, Session } from '../engine/session.js';
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
 * Second stage of an export, in a fresh DuckDB session: reads every staged parquet part in order,
 * applies dedupe / the presets, converts for the format (JSON has no NaN; CSV cells hold lists as
 * JSON) and streams the result to the target with COPY. Returns the rows and columns written.
 */
export async function writeOutput(
  parts: readonly string[],
  plan: OutputPlan,
  target: OutputTarget,
): Promise<{ rows: number; columns: string[] }> {
  // The output's directory is created like `plot --out` creates its own.
  mkdirSync(dirname(resolve(target.path)), { recursive: true });
  // The run's memory bound applies here too. One thread: an order-preserving COPY holds a row
  // group per thread plus those waiting for their turn, outside DuckDB's limit (1 GB FileTAO
  // export: this COPY peaked at 623 MB on 2 threads, 468 MB on one, in the same 6.3 s).
  const session = await Session.create({
    memoryLimit: boundedMemoryLimit(),
    threads: 1,
  });
  const temp = `${target.path}.tmp-${process.pid}`;
  try {
    await session.run('SET preserve_insertion_order = true');
    if (!parts.length) {
      if (!target.append) writeFileSync(target.path, '');
      return { rows: 0, columns: [] };
    }
    // The parts of one run share one schema; matching columns by name across parts costs memory
    // with the number of parts (+60 MB over 2400 parts), so only several runs' parts need it.
    await session.run(
      `CREATE VIEW staged AS SELECT * FROM read_parquet([${parts.map(quoteString).join(', ')}], union_by_name = ${plan.runIds})`,
    );
    const staged = (await describe(session, 'SELECT * FROM staged'))
      .map((c) => c.name)
      .filter((c) => !HELPERS.has(c));
    const columns = plan.columns ? plan.columns.filter((c) => staged.includes(c) || c === 'run_id') : staged;
    const final = finalQuery(plan.mode, columns, plan);
    const types = (await describe(session, final.sql)).filter((c) => c.name !== '_order');
    const wanted = [...(target.header ?? types.map((c) => c.name))];
    const select = wanted.map((name) => {
      const type = types.find((t) => t.name === name)?.type;
      return type === undefined
        ? `NULL AS ${q(name)}`
        : `${convert(q(name), type, plan.format)} AS ${q(name)}`;
    });
    const options =
      plan.format === 'parquet'
        ? `FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${await rowGroupSize(session, parts)}`
        : plan.format === 'csv'
          ? `FORMAT csv, HEADER ${target.append ? 'false' : 'true'}`
          : 'FORMAT json';
    const result = await session.all<{ Count: bigint | number }>(
      `COPY (SELECT ${select.join(', ')} FROM (${final.sql}) ${final.ordered ? 'ORDER BY _order' : ''}) TO ${quoteString(temp)} (${options})`,
    );
    const rows = Number(result[0]?.Count ?? 0);
    if (target.append) {
      if (rows > 0) await pipeline(createReadStream(temp), createWriteStream(target.path, { flags: 'a' }));
      rmSync(temp, { force: true });
    } else renameSync(temp, target.path);
    return { rows, columns: wanted };
  } finally {
    rmSync(temp, { force: true });
    session.close();
  }
}

/**
 * Rows per parquet row group so that one group stays near 8 MB as parquet counts it uncompressed:
 * the writer holds a whole group in memory, where it is several times larger than that (lists of
 * repeated text are dictionary-encoded in the file). 10 GB FileTAO export, 290 bytes per row in
 * the parts: 115 k rows per group (the old 32 MB target) peaked at 614 MB, 20 k rows at 392 MB.
 * A per-event row with fifty-entry lists can be 10 kB.
 */
async function rowGroupSize(session: Session, parts: readonly string[]): Promise<number> {
  const list = `[${parts.map(quoteString).join(', ')}]`;
  const size = await session.one<{ bytes: number | null; rows: number | null }>(
    `SELECT (SELECT CAST(sum(total_uncompressed_size) AS DOUBLE) FROM parquet_metadata(${list})) AS bytes,
            (SELECT CAST(sum(num_rows) AS DOUBLE) FROM parquet_file_metadata(${list})) AS rows`,
  );
  const perRow = size?.bytes && size.rows ? size.bytes / size.rows : 1000;
  return Math.max(256, Math.min(122_880, Math.floor((8 * 1024 * 1024) / perRow)));
}

async function describe(session: Session, sql: string): Promise<{ name: string; type: string }[]> {
  const rows = await session.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/** A column as the format needs it: JSON has no NaN/Infinity (→ null); CSV holds lists as JSON text. */
function convert(column: string, type: string, format: ExportFormat): string {
  if (format === 'parquet') return column;
  const isFloat = (t: string) => t === 'DOUBLE' || t === 'FLOAT';
  let expression = column;
  if (isFloat(type))
    expression = format === 'jsonl' ? `CASE WHEN isfinite(${column}) THEN ${column} END` : column;
  else if (type.endsWith('[]')) {
    const element = type.slice(0, -2);
    if (isFloat(element)) expression = `list_transform(${column}, v -> CASE WHEN isfinite(v) THEN v END)`;
    if (format === 'csv') expression = `CAST(to_json(${expression}) AS VARCHAR)`;
  }
  return expression;
}
