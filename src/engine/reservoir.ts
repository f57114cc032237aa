import type { Run } from './run.js';
import { sampleHashSql, sampleSeed } from './sample-hash.js';
import { quoteIdentifier } from './session.js';

export interface ReservoirOptions {
  /** At most this many rows (default 10 000). */
  size?: number;
  seed?: number;
  table?: 'events' | 'uid_events';
  columns: string[];
  where?: string;
}

export interface ReservoirSample {
  /** Rows eligible for the sample (after `where`). */
  population: number;
  /** Column-major sample, in row order (ord, then uid position). */
  columns: Record<string, unknown[]>;
  size: number;
  /** size ÷ population. */
  ratio: number;
}

/**
 * A seeded uniform sample of at most N rows over all rows of all files: every row gets a key from
 * a hash of (seed, file, line, position) (sampleHash: the scanner computes the same) and the N
 * smallest keys win. Each row is equally likely
 * whatever the file sizes, the result does not depend on read order or threads, and the same seed
 * gives the same sample.
 */
export async function reservoirSample(run: Run, options: ReservoirOptions): Promise<ReservoirSample> {
  const table = options.table ?? 'events';
  const size = options.size ?? 10_000;
  const seed = sampleSeed(options.seed ?? 0);
  const where = options.where ? `WHERE ${options.where}` : '';
  const position = table === 'uid_events' ? 'pos' : '0';
  const selected = options.columns.map((c) => `${quoteIdentifier(c)}`).join(', ');
  const population = await run.session.one<{ n: number }>(
    `SELECT CAST(count(*) AS DOUBLE) AS n FROM ${table} ${where}`,
  );
  const columns = await run.session.columns(`
    SELECT ${selected} FROM (
      SELECT ${selected}, ord AS __ord, ${position} AS __pos FROM ${table} ${where}
      ORDER BY ${sampleHashSql(seed, 'file_id', 'line', position)}, __ord, __pos LIMIT ${size}
    ) ORDER BY __ord, __pos`);
  const total = population?.n ?? 0;
  const taken = (Object.values(columns)[0] ?? []).length;
  return { population: total, columns, size: taken, ratio: total === 0 ? 0 : taken / total };
}
