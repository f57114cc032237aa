import { binIndexSql, binSpec, type BinSpec } from './bins.js';
import type { Run } from './run.js';
import { ident, lit, sql } from './sql.js';
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
 * log has them; otherwise the state is rebuilt as the validator builds it, event by event in row
 * order: `score[uid] = α·reward + (1−α)·score[uid]` for each uid the event rewarded (finite rewards),
 * starting at 0. Each bin holds the state after its last event; a uid has no score (NaN) before
 * its first reward. Bins cut the run's x range (Run.xRange), like every chart over x.
 *
 * The replay is split where it is cheap: each uid's updates within one bin compose to one affine
 * map s ↦ A·s + B, with A = (1−α)^n and B the replay of the bin's rewards from 0 (SQL: the rewards
 * in row order, folded by list_reduce); JavaScript composes the maps bin after bin. Only one
 * number pair per (uid, bin) leaves DuckDB, whatever the run's size.
 */
export async function movingAverageScores(run: Run, options: ScoreOptions = {}): Promise<ScoreMatrix | undefined> {
  const alpha = options.alpha ?? 0.05;
  const maxBins = options.maxBins ?? 200;
  const logged = await run.session.one<{ n: number }>(
    `SELECT CAST(count(*) AS DOUBLE) AS n FROM uid_indexed WHERE kind = 'moving_averaged_scores'`,
  );
  if ((logged?.n ?? 0) > 0) return loggedScores(run, alpha, maxBins);
  const reward = options.rewardColumn ?? 'rewards';
  if (!run.storedColumns('uid_rows').has(reward)) return undefined;
  const range = await run.xRange();
  if (range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  const maps = await run.session.columns(scoreMapsSql(reward, spec, alpha).text);
  const uidColumn = (maps.uid ?? []) as number[];
  if (!uidColumn.length) return undefined;
  const events = await run.session.one<{ n: number }>(
    sql`SELECT CAST(count(DISTINCT ord) AS DOUBLE) AS n FROM uid_events WHERE ${updates(reward)}`.text,
  );
  const uids = [...new Set(uidColumn)].sort((a, b) => a - b);
  const rowOf = new Map(uids.map((u, i) => [u, i]));
  const values = new Float64Array(uids.length * spec.count).fill(NaN);
  const state = new Float64Array(uids.length).fill(NaN);
  const bins = maps.bin as number[];
  const counts = maps.n as number[];
  const offsets = maps.b as number[];
  // Rows come ordered by bin, then uid: each uid's state moves through the bins in order.
  for (let i = 0; i < bins.length; i++) {
    const row = rowOf.get(uidColumn[i])!;
    const before = Number.isNaN(state[row]) ? 0 : state[row];
    state[row] = Math.pow(1 - alpha, counts[i]) * before + offsets[i];
    values[row * spec.count + bins[i]] = state[row];
  }
  forwardFill(values, uids.length, spec.count);
  return { uids, spec, values, source: 'reconstructed', alpha, events: events?.n ?? 0 };
}

/** The per-uid rows that update a score: a finite reward of a uid ≥ 0 at a finite x. */
function updates(reward: string) {
  const r = ident(reward);
  return sql`${r} IS NOT NULL AND isfinite(${r}) AND x IS NOT NULL AND isfinite(x) AND uid >= 0`;
}

/**
 * Per (bin, uid): the number of updates n and B, the state the bin's updates reach from 0, folded
 * in row order (ord, then position in the event).
 */
export function scoreMapsSql(reward: string, spec: BinSpec, alpha: number) {
  const r = ident(reward);
  return sql`SELECT bin, uid, CAST(count(*) AS DOUBLE) AS n,
      list_reduce(list_prepend(0.0, list(CAST(${r} AS DOUBLE) ORDER BY ord, pos)),
        (s, v) -> ${lit(1 - alpha)} * s + ${lit(alpha)} * v) AS b
    FROM (SELECT ${binIndexSql('x', spec)} AS bin, uid, ${r}, ord, pos FROM uid_events WHERE ${updates(reward)})
    GROUP BY bin, uid ORDER BY bin, uid`;
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
