import { binIndex, binSpec, type BinSpec } from './bins.js';
import type { Run } from './run.js';
import { quoteIdentifier } from './session.js';
import { forwardFill, uidIndexedMatrix } from './uid-indexed-matrix.js';

export interface ScoreMatrix {
  /** uid of each matrix row. */
  uids: number[];
  spec: BinSpec;
  /** uids.length × spec.count, row-major; NaN where a uid has no score yet. */
  values: Float64Array;
  /** 'logged' when the log holds moving_averaged_scores, 'reconstructed' when replayed from rewards. */
  source: 'logged' | 'reconstructed';
  alpha: number;
  /** Events replayed (reconstructed) or score vectors read (logged). */
  events: number;
}

export interface ScoreOptions {
  alpha?: number;
  maxBins?: number;
  rewardColumn?: string;
}

/**
 * The validator's moving-averaged scores as a uid × x-bin matrix. Logged scores are used when the
 * log has them; otherwise the state is rebuilt by replaying every event in order:
 * `score[uid] = α·reward + (1−α)·score[uid]` for the queried uids (scores start at 0). Each bin
 * holds the state after its last event; bins without events carry the state forward.
 */
export async function movingAverageScores(
  run: Run,
  options: ScoreOptions = {},
): Promise<ScoreMatrix | undefined> {
  const alpha = options.alpha ?? 0.05;
  const maxBins = options.maxBins ?? 200;
  const logged = await run.session.one<{ n: number }>(
    `SELECT CAST(count(*) AS DOUBLE) AS n FROM uid_indexed WHERE kind = 'moving_averaged_scores'`,
  );
  if ((logged?.n ?? 0) > 0) return loggedScores(run, alpha, maxBins);
  const reward = options.rewardColumn ?? 'rewards';
  if (!run.storedColumns('uid_rows').has(reward)) return undefined;
  const r = quoteIdentifier(reward);
  const range = await run.session.one<{ min: number; max: number; maxUid: number; integer: boolean }>(
    `SELECT min(x) AS min, max(x) AS max, max(uid) AS "maxUid", bool_and(x = round(x)) AS integer
     FROM uid_events WHERE ${r} IS NOT NULL AND isfinite(${r}) AND x IS NOT NULL`,
  );
  if (!range || range.min === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  const scores = new Float64Array(range.maxUid + 1);
  const seen = new Uint8Array(range.maxUid + 1);
  const snapshots = new Map<number, Float64Array>();
  let currentBin = -1;
  let events = 0;
  let lastRow = '';
  const flushBin = (): void => {
    if (currentBin >= 0) snapshots.set(currentBin, scores.slice());
  };
  for await (const [x, uid, value, fileId, rec] of run.session.chunks(
    `SELECT x, uid, ${r}, file_id, rec FROM uid_events
     WHERE ${r} IS NOT NULL AND isfinite(${r}) AND x IS NOT NULL ORDER BY ord, pos`,
  )) {
    for (let i = 0; i < x.length; i++) {
      const bin = binIndex(x[i] as number, spec);
      if (bin !== currentBin) {
        flushBin();
        currentBin = bin;
      }
      const u = uid[i] as number;
      if (u < 0) continue;
      scores[u] = alpha * (value[i] as number) + (1 - alpha) * scores[u];
      seen[u] = 1;
      const row = `${fileId[i]}:${rec[i]}`;
      if (row !== lastRow) {
        events++;
        lastRow = row;
      }
    }
  }
  flushBin();
  const uids = [...seen.keys()].filter((u) => seen[u]);
  return { uids, spec, values: fillMatrix(uids, spec, snapshots), source: 'reconstructed', alpha, events };
}

async function loggedScores(run: Run, alpha: number, maxBins: number): Promise<ScoreMatrix | undefined> {
  const matrix = await uidIndexedMatrix(run, 'moving_averaged_scores', maxBins);
  return (
    matrix && {
      uids: matrix.uids,
      spec: matrix.spec,
      values: matrix.values,
      source: 'logged',
      alpha,
      events: matrix.vectors,
    }
  );
}

function fillMatrix(uids: number[], spec: BinSpec, snapshots: Map<number, Float64Array>): Float64Array {
  const values = new Float64Array(uids.length * spec.count).fill(NaN);
  for (const [bin, scores] of snapshots) {
    for (let row = 0; row < uids.length; row++) values[row * spec.count + bin] = scores[uids[row]];
  }
  forwardFill(values, uids.length, spec.count);
  return values;
}
