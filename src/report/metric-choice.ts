import { columnTypes } from '../analysis/run-columns.js';
import { finiteCounts } from '../engine/finite-counts.js';
import type { QueryableRun } from '../engine/queryable.js';

export interface Metric {
  /** `events` (one row per event) or `uid_events` (one row per event × uid). */
  table: 'events' | 'uid_events';
  column: string;
  /** Rows with a finite value. */
  rows: number;
}

const NUMERIC = /^(DOUBLE|FLOAT|REAL|DECIMAL|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)/;
const BOOKKEEPING = new Set(['file_id', 'rec', 'line', 'pos', 'uid']);
/** Identifiers, codes and coordinates: numbers whose mean over a bin means nothing. */
const NOT_A_METRIC = /(^|[._])(uid|uids|hotkey|id|codes?|position\.(x|y|map)|x|y|map)$/;

export interface MetricChoice {
  metrics: Metric[];
  /** Numeric columns left out because of the cap. */
  omitted: Metric[];
}

/**
 * Every numeric column worth a line chart, per-event columns first, then per-uid columns (their
 * mean over uids per bin): not bookkeeping, not the x column, not ids or codes, with at least two
 * finite values. At most `max`; the rest are named as omitted.
 */
export async function chooseMetrics(
  run: QueryableRun,
  options: { max: number; exclude?: Set<string>; pieceRows?: number },
): Promise<MetricChoice> {
  const found: Metric[] = [];
  for (const [stored, table] of [
    ['rows', 'events'],
    ['uid_rows', 'uid_events'],
  ] as const) {
    const types = [...(await columnTypes(run, stored))].map(([name, type]) => ({ name, type }));
    const candidates = types
      .filter((c) => NUMERIC.test(c.type) && !BOOKKEEPING.has(c.name) && !NOT_A_METRIC.test(c.name))
      .filter((c) => !(table === 'events' && c.name === run.x.column))
      .filter((c) => !options.exclude?.has(c.name))
      .map((c) => c.name);
    if (!candidates.length) continue;
    const counts = await finiteCounts(run, table, candidates, options.pieceRows);
    candidates.forEach((column, i) => {
      const rows = counts[i];
      if (rows >= 2) found.push({ table, column, rows });
    });
  }
  return { metrics: found.slice(0, options.max), omitted: found.slice(options.max) };
}
