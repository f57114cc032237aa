import { binIndexSql, binSpec, heldBin, type BinSpec } from './bins.js';
import { duckdb, fromWhere, type Dialect } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { ident, join, lit, sql, type Sql } from './sql.js';

/** A uid × x-bin matrix of a vector indexed by uid: each bin holds the bin's last vector. */
export interface UidIndexedMatrix {
  uids: number[];
  spec: BinSpec;
  /** uids.length × spec.count, row-major; carried forward from the last vector, NaN before the first. */
  values: Float64Array;
  /** Vectors of this kind in the log. */
  vectors: number;
}

export const WEIGHT_KINDS = ['set_weights', 'neuron_weights'] as const;

const X = ident('x');
const ORD = ident('ord');
const UID = ident('uid');
const VALUE = ident('value');
const KIND = ident('kind');

/** The values of one kind that count: a finite value of a uid at a finite x. */
function valuesOf(kind: string, d: Dialect): Sql[] {
  return [
    sql`${KIND} = ${lit(kind)}`,
    sql`${X} IS NOT NULL`,
    d.isFinite(X),
    d.isFinite(VALUE),
    sql`${UID} >= 0`,
  ];
}

/** How many vectors (events) of `kind` hold a finite value at a finite x. */
export function uidIndexedVectorsSql(kind: string, d: Dialect = duckdb): Sql {
  return sql`SELECT CAST(count(DISTINCT ${ORD}) AS DOUBLE) AS n ${fromWhere(d, 'uid_indexed_events', valuesOf(kind, d))}`;
}

/** Per (bin, uid): the value of the bin's last vector (in row order) that has one. */
export function uidIndexedMatrixSql(kind: string, spec: BinSpec, d: Dialect = duckdb): Sql {
  const bin = ident('bin');
  return join(
    [
      sql`SELECT ${binIndexSql(X, spec)} AS ${bin}, ${UID} AS ${ident('key')}, ${d.argMaxIf(VALUE, ORD)} AS ${ident('last')}`,
      fromWhere(d, 'uid_indexed_events', valuesOf(kind, d)),
      sql`GROUP BY ${bin}, ${UID} ORDER BY ${bin}, ${UID}`,
    ],
    ' ',
  );
}

/** Vectors per weight kind (set_weights, neuron_weights) at a finite x, most first. */
export function weightKindsSql(d: Dialect = duckdb): Sql {
  const conditions = [
    sql`${KIND} IN (${join(WEIGHT_KINDS.map((k) => lit(k)))})`,
    sql`${X} IS NOT NULL`,
    d.isFinite(X),
  ];
  return join(
    [
      sql`SELECT ${KIND}, CAST(count(DISTINCT ${ORD}) AS DOUBLE) AS n ${fromWhere(d, 'uid_indexed_events', conditions)}`,
      sql`GROUP BY ${KIND} ORDER BY n DESC, ${KIND}`,
    ],
    ' ',
  );
}

/**
 * `set_weights`, `neuron_weights` or `moving_averaged_scores` per uid over x: the last vector in
 * each bin (in row order), carried forward until the next one. Bins cut the run's x range.
 */
export async function uidIndexedMatrix(
  run: QueryableRun,
  kind: string,
  maxBins: number,
): Promise<UidIndexedMatrix | undefined> {
  const vectors = await run.answers.one<{ n: number }>(uidIndexedVectorsSql(kind, run.dialect).text);
  const range = await run.xRange();
  if (!vectors?.n || range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  const cols = await run.answers.columns(uidIndexedMatrixSql(kind, spec, run.dialect).text);
  const keys = ((cols.key ?? []) as number[]).map(Number);
  const uids = [...new Set(keys)].sort((a, b) => a - b);
  if (!uids.length) return undefined;
  const rowOf = new Map(uids.map((u, i) => [u, i]));
  const values = new Float64Array(uids.length * spec.count).fill(NaN);
  const bins = cols.bin as number[];
  for (let i = 0; i < bins.length; i++)
    values[rowOf.get(keys[i])! * spec.count + heldBin(bins[i], spec)] = cols.last[i] as number;
  forwardFill(values, uids.length, spec.count);
  return { uids, spec, values, vectors: vectors.n };
}

export interface WeightsMatrix extends UidIndexedMatrix {
  kind: 'set_weights' | 'neuron_weights';
  /** Weight vectors in the log (= vectors). */
  updates: number;
}

/** Weights per uid over x from `set_weights` (FileTAO) or `neuron_weights` (wandb), whichever the log holds more of. */
export async function weightsMatrix(run: QueryableRun, maxBins = 400): Promise<WeightsMatrix | undefined> {
  const kinds = await run.answers.all<{ kind: WeightsMatrix['kind']; n: number }>(
    weightKindsSql(run.dialect).text,
  );
  if (!kinds.length) return undefined;
  const matrix = await uidIndexedMatrix(run, kinds[0].kind, maxBins);
  return matrix && { ...matrix, kind: kinds[0].kind, updates: matrix.vectors };
}

/** Carries each row's last value forward over NaN cells. */
export function forwardFill(values: Float64Array, rows: number, cols: number): void {
  for (let row = 0; row < rows; row++) {
    let last = NaN;
    for (let col = 0; col < cols; col++) {
      const i = row * cols + col;
      if (Number.isNaN(values[i])) values[i] = last;
      else last = values[i];
    }
  }
}
