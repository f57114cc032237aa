import { columnTypes } from '../analysis/run-columns.js';
import type { Run } from '../engine/run.js';
import { ident, join, sql } from '../engine/sql.js';
import type { MetricInfo, Table } from './api-types.js';
import { HttpError } from './http-error.js';

const NUMERIC = /^(DOUBLE|FLOAT|REAL|DECIMAL|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)/;
const BOOKKEEPING = new Set(['file_id', 'rec', 'line', 'pos', 'uid']);
/** Identifiers, codes and coordinates: numbers whose mean over a bin means nothing. */
const NOT_A_METRIC = /(^|[._])(uid|uids|hotkey|id|codes?|position\.(x|y|map))$/;

/**
 * The run's chartable metrics: numeric stored columns of `rows` (per event) and `uid_rows` (per
 * event × uid) with at least two numeric values, minus bookkeeping, ids, codes, positions and the
 * x column itself. Counts come from the index's field catalogue (counted once per chunk and kept in
 * the index) once it is there (catalogueKept), else from one scan of the run's columns.
 */
export async function runMetrics(run: Run): Promise<MetricInfo[]> {
  const counts = kept.has(run) ? await catalogValueCounts(run) : await scannedValueCounts(run);
  const metrics: MetricInfo[] = [];
  for (const [stored, table] of [
    ['rows', 'events'],
    ['uid_rows', 'uid_events'],
  ] as const) {
    for (const [name, type] of columnTypes(run, stored)) {
      if (!NUMERIC.test(type) || BOOKKEEPING.has(name) || NOT_A_METRIC.test(name)) continue;
      if (table === 'events' && name === run.x.column) continue;
      const values = counts.get(`${stored}:${name}`) ?? 0;
      if (values >= 2) metrics.push({ name, table, values });
    }
  }
  return metrics.sort((a, b) => rank(a) - rank(b));
}

/** Numeric values per stored column (`rows:name`, `uid_rows:name`), from the index's field catalogue. */
async function catalogValueCounts(run: Run): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const field of (await run.fieldCatalog()).fields) {
    if (field.role !== 'scalar' && field.role !== 'per-uid') continue;
    const numeric = (field.types.int ?? 0) + (field.types.float ?? 0) + (field.types.bool ?? 0);
    counts.set(`${field.role === 'scalar' ? 'rows' : 'uid_rows'}:${field.path}`, numeric);
  }
  return counts;
}

/** Runs whose field catalogue is measured and kept in their index (reading it is free). */
const kept = new WeakSet<Run>();

/**
 * Says the run's field catalogue can be read without measuring chunks: its index was up to date
 * when opened (measured by an earlier look), or it was measured since (`run.fieldCatalog()`).
 */
export function catalogueKept(run: Run): void {
  kept.add(run);
}

const scanned = new WeakMap<Run, { rows: number; counts: Promise<Map<string, number>> }>();

/**
 * The same counts by one scan of the run's numeric columns, for a run whose catalogue is not
 * measured yet: measuring it takes seconds on a large run just read, and for a run of what is
 * indexed so far it would run on the index's connection, busy reading the rest. Finite values of
 * each numeric column (the columns are DOUBLE: ints, floats and bools alike). Kept per run until
 * it grows.
 */
function scannedValueCounts(run: Run): Promise<Map<string, number>> {
  let entry = scanned.get(run);
  if (!entry || entry.rows !== run.ingest.rows) {
    entry = { rows: run.ingest.rows, counts: countFiniteValues(run) };
    scanned.set(run, entry);
    entry.counts.catch(() => scanned.delete(run));
  }
  return entry.counts;
}

async function countFiniteValues(run: Run): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const stored of ['rows', 'uid_rows'] as const) {
    const names = [...columnTypes(run, stored)]
      .filter(([name, type]) => NUMERIC.test(type) && !BOOKKEEPING.has(name) && !NOT_A_METRIC.test(name))
      .map(([name]) => name);
    if (!names.length || (stored === 'uid_rows' && run.ingest.uidRows === 0)) continue;
    const selects = names.map(
      (name, i) => sql`CAST(count(*) FILTER (WHERE isfinite(${ident(name)})) AS DOUBLE) AS ${ident(`c${i}`)}`,
    );
    const row = await run.answers.one<Record<string, number>>(
      sql`SELECT ${join(selects)} FROM ${ident(stored)}`.text,
    );
    names.forEach((name, i) => counts.set(`${stored}:${name}`, row?.[`c${i}`] ?? 0));
  }
  return counts;
}

/** RL reward components first, then per-uid metrics, then the rest in column order. */
function rank(m: MetricInfo): number {
  if (m.name === 'rewards.total') return 0;
  if (m.name.startsWith('rewards.')) return 1;
  return m.table === 'uid_events' ? 2 : 3;
}

/**
 * The metric a request names, checked against the run's stored columns: an unknown name is a 400
 * that lists the valid ones. The name is only ever used quoted as an identifier.
 */
export async function requireMetric(run: Run, table: Table, name: string): Promise<MetricInfo> {
  const stored = run.storedColumns(table === 'events' ? 'rows' : 'uid_rows');
  const metrics = (await runMetrics(run)).filter((m) => m.table === table);
  const metric = metrics.find((m) => m.name === name);
  if (!metric || !stored.has(name))
    throw new HttpError(400, `unknown metric "${name}" in ${table}`, {
      hint: `choose one of the run's ${metrics.length} numeric metrics in ${table}`,
      valid: metrics.map((m) => m.name),
    });
  return metric;
}
