import { binSpec, type BinSpec } from '../engine/bins.js';
import type { Run } from '../engine/run.js';
import { quoteString } from '../engine/session.js';

export interface WeightsMatrix {
  kind: string;
  uids: number[];
  spec: BinSpec;
  /** uids.length × spec.count, row-major; the last vector per bin, carried forward. */
  values: Float64Array;
  /** Weight vectors in the log. */
  updates: number;
}

/** Weights per uid over x (`set_weights` or wandb's `neuron_weights`, whichever the log has more of). */
export async function weightsMatrix(run: Run, maxBins: number): Promise<WeightsMatrix | undefined> {
  const kinds = await run.session.all<{ kind: string; n: number }>(
    `SELECT kind, CAST(count(DISTINCT ord) AS DOUBLE) AS n FROM uid_indexed_events
     WHERE kind IN ('set_weights', 'neuron_weights') AND x IS NOT NULL GROUP BY kind ORDER BY n DESC`,
  );
  if (!kinds.length) return undefined;
  const kind = quoteString(kinds[0].kind);
  const range = await run.session.one<{ min: number | null; max: number | null; integer: boolean }>(
    `SELECT min(x) AS min, max(x) AS max, bool_and(x = round(x)) AS integer
     FROM uid_indexed_events WHERE kind = ${kind} AND x IS NOT NULL`,
  );
  if (!range || range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  const cols = await run.session.columns(`
    SELECT bin, uid, arg_max(value, ord) AS value FROM (
      SELECT LEAST(CAST(FLOOR((x - ${spec.x0}) / ${spec.width}) AS INTEGER), ${spec.count - 1}) AS bin, uid, value, ord
      FROM uid_indexed_events WHERE kind = ${kind} AND x IS NOT NULL AND isfinite(value))
    GROUP BY bin, uid ORDER BY bin, uid`);
  const uids = [...new Set(cols.uid as number[])].sort((a, b) => a - b);
  if (!uids.length) return undefined;
  const rowOf = new Map(uids.map((u, i) => [u, i]));
  const values = new Float64Array(uids.length * spec.count).fill(NaN);
  const bins = cols.bin as number[];
  for (let i = 0; i < bins.length; i++)
    values[rowOf.get(cols.uid[i] as number)! * spec.count + bins[i]] = cols.value[i] as number;
  for (let r = 0; r < uids.length; r++) {
    let last = NaN;
    for (let c = 0; c < spec.count; c++) {
      const k = r * spec.count + c;
      if (Number.isNaN(values[k])) values[k] = last;
      else last = values[k];
    }
  }
  return { kind: kinds[0].kind, uids, spec, values, updates: kinds[0].n };
}
