import { binIndexSql, binSpec, type BinSpec } from './bins.js';
import type { Run } from './run.js';
import { quoteString } from './session.js';

/** A uid × x-bin matrix of a vector indexed by uid: each bin holds the bin's last vector. */
export interface UidIndexedMatrix {
  uids: number[];
  spec: BinSpec;
  /** uids.length × spec.count, row-major; carried forward from the last vector, NaN before the first. */
  values: Float64Array;
  /** Vectors of this kind in the log. */
  vectors: number;
}

/**
 * `set_weights`, `neuron_weights` or `moving_averaged_scores` per uid over x: the last vector in
 * each bin (in row order), carried forward until the next one. Bins cut the run's x range.
 */
export async function uidIndexedMatrix(
  run: Run,
  kind: string,
  maxBins: number,
): Promise<UidIndexedMatrix | undefined> {
  const where = `kind = ${quoteString(kind)} AND x IS NOT NULL AND isfinite(x) AND isfinite(value) AND uid >= 0`;
  const vectors = await run.session.one<{ n: number }>(
    `SELECT CAST(count(DISTINCT ord) AS DOUBLE) AS n FROM uid_indexed_events WHERE ${where}`,
  );
  const range = await run.xRange();
  if (!vectors?.n || range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  const cols = await run.session.columns(`
    SELECT bin, uid, arg_max(value, ord) AS value FROM (
      SELECT ${binIndexSql('x', spec)} AS bin, uid, value, ord FROM uid_indexed_events WHERE ${where})
    GROUP BY bin, uid ORDER BY bin, uid`);
  const uids = [...new Set(cols.uid as number[])].sort((a, b) => a - b);
  if (!uids.length) return undefined;
  const rowOf = new Map(uids.map((u, i) => [u, i]));
  const values = new Float64Array(uids.length * spec.count).fill(NaN);
  const bins = cols.bin as number[];
  for (let i = 0; i < bins.length; i++)
    values[rowOf.get(cols.uid[i] as number)! * spec.count + bins[i]] = cols.value[i] as number;
  forwardFill(values, uids.length, spec.count);
  return { uids, spec, values, vectors: vectors.n };
}

export interface WeightsMatrix extends UidIndexedMatrix {
  kind: 'set_weights' | 'neuron_weights';
  /** Weight vectors in the log (= vectors). */
  updates: number;
}

/** Weights per uid over x from `set_weights` (FileTAO) or `neuron_weights` (wandb), whichever the log holds more of. */
export async function weightsMatrix(run: Run, maxBins = 400): Promise<WeightsMatrix | undefined> {
  const kinds = await run.session.all<{ kind: WeightsMatrix['kind']; n: number }>(
    `SELECT kind, CAST(count(DISTINCT ord) AS DOUBLE) AS n FROM uid_indexed_events
     WHERE kind IN ('set_weights', 'neuron_weights') AND x IS NOT NULL AND isfinite(x)
     GROUP BY kind ORDER BY n DESC, kind`,
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
