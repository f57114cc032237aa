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
  /** Rows the file-by-file replay may hold to restore append order (default REPLAY_SLACK_ROWS; tests shrink it). */
  replaySlack?: number;
}

/** How many reconstructions each replay answered (tests check which one ran). */
export const replayCounts = { merged: 0, sorted: 0 };

/**
 * The validator's moving-averaged scores as a uid × x-bin matrix. Logged scores are used when the
 * log has them; otherwise the state is rebuilt by replaying every event in order:
 * `score[uid] = α·reward + (1−α)·score[uid]` for the queried uids (scores start at 0). Each bin
 * holds the state after its last event; bins without events carry the state forward. Bins cut the
 * run's x range (Run.xRange), like every chart over x.
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
  const rows = await run.session.one<{ n: number; maxUid: number }>(
    `SELECT CAST(count(*) AS DOUBLE) AS n, max(uid) AS "maxUid"
     FROM uid_events WHERE ${r} IS NOT NULL AND isfinite(${r}) AND x IS NOT NULL`,
  );
  const range = await run.xRange();
  if (!rows?.n || range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  let replay = new Replay(alpha, spec, Math.max(0, rows.maxUid));
  if (await replayFileByFile(run, r, replay, options.replaySlack ?? REPLAY_SLACK_ROWS)) replayCounts.merged++;
  else {
    replay = new Replay(alpha, spec, Math.max(0, rows.maxUid));
    await replaySorted(run, r, replay);
    replayCounts.sorted++;
  }
  return replay.result();
}

/** The validator's score state, updated event by event, with a snapshot per x bin. */
class Replay {
  private readonly scores: Float64Array;
  private readonly seen: Uint8Array;
  private readonly snapshots = new Map<number, Float64Array>();
  private currentBin = -1;
  private lastEvent = -1;
  events = 0;

  constructor(
    private readonly alpha: number,
    private readonly spec: BinSpec,
    maxUid: number,
  ) {
    this.scores = new Float64Array(maxUid + 1);
    this.seen = new Uint8Array(maxUid + 1);
  }

  /** One reward of one uid; `event` identifies the event (file · 2^32 + record). */
  add(x: number, uid: number, reward: number, event: number): void {
    const bin = binIndex(x, this.spec);
    if (bin !== this.currentBin) {
      if (this.currentBin >= 0) this.snapshots.set(this.currentBin, this.scores.slice());
      this.currentBin = bin;
    }
    if (uid < 0) return;
    this.scores[uid] = this.alpha * reward + (1 - this.alpha) * this.scores[uid];
    this.seen[uid] = 1;
    if (event !== this.lastEvent) {
      this.events++;
      this.lastEvent = event;
    }
  }

  result(): ScoreMatrix {
    if (this.currentBin >= 0) this.snapshots.set(this.currentBin, this.scores.slice());
    const uids = [...this.seen.keys()].filter((u) => this.seen[u]);
    return {
      uids,
      spec: this.spec,
      values: fillMatrix(uids, this.spec, this.snapshots),
      source: 'reconstructed',
      alpha: this.alpha,
      events: this.events,
    };
  }
}

/** Rows a file's per-uid rows may be stored away from their append order (see replayFileByFile). */
export const REPLAY_SLACK_ROWS = 1 << 19;

/**
 * Replays file by file, each file's per-uid rows read in stored order and put back in (record,
 * position) order — the order the ingest appends them in — by a merge that holds at most `slack`
 * rows. DuckDB stores appended rows close to their append order but not in it: measured on FileTAO
 * runs, up to ~110 k rows (one row group) away, a few times per million rows. (A join scrambles far
 * more, so this reads `uid_rows` itself, with the copies of x the ingest wrote.) This avoids sorting
 * every per-uid row of the run (147 M at 10 GB). False when the per-uid rows do not carry x, or a
 * row came further than the slack from its place (or a position does not fit the key): the caller
 * then replays from a sorted query.
 */
async function replayFileByFile(run: Run, reward: string, replay: Replay, slack: number): Promise<boolean> {
  const files = await run.session.all<{ file_id: number; first_ord: number }>(
    'SELECT file_id, CAST(first_ord AS DOUBLE) AS first_ord FROM files WHERE rows > 0 ORDER BY first_ord',
  );
  if (files.length && run.uidRowsX(0) === undefined) return false;
  await run.session.run('SET preserve_insertion_order = true');
  try {
    for (const { file_id: fileId, first_ord: firstOrd } of files) {
      const event = fileId * 4294967296;
      const x = run.uidRowsX(firstOrd)!;
      const merge = new NearlySortedMerge(slack, (rec, uid, value, x) =>
        replay.add(x, uid, value, event + rec),
      );
      for await (const [rec, pos, uid, value, xs] of run.session.numericChunks(
        `SELECT rec, pos, uid, CAST(${reward} AS DOUBLE), ${x} FROM uid_rows
         WHERE file_id = ${fileId} AND ${reward} IS NOT NULL AND isfinite(${reward}) AND ${x} IS NOT NULL`,
      )) {
        if (!merge.add(rec, pos, uid, value, xs)) return false;
      }
      merge.finish();
    }
    return true;
  } finally {
    await run.session.run('SET preserve_insertion_order = false');
  }
}

/** Positions below this fit the merge's key (record · POSITIONS + position, exact below 2^53). */
const POSITIONS = 2 ** 20;

/** A stretch of rows in key order: copied chunk pieces, read from the front. */
interface SortedRun {
  pieces: { key: Float64Array; rec: Float64Array; uid: Float64Array; value: Float64Array; x: Float64Array }[];
  /** Next row: piece index and offset in it. */
  piece: number;
  at: number;
  /** Key of the last row appended. */
  last: number;
}

/**
 * Puts rows that arrive nearly in (record, position) order back in order, passing each to `emit`
 * once no row still to come can precede it. Rows arrive as sorted runs (a row smaller than the
 * one before starts a new run); a k-way merge of the runs (k is small: a displaced stretch and what
 * follows it) passes on all but the last `slack` rows held. A row is never stored more than
 * `slack` rows after its place, or `add` finds one smaller than a row already passed on and
 * returns false.
 */
export class NearlySortedMerge {
  private readonly runs: SortedRun[] = [];
  private held = 0;
  private lastOut = -1;

  constructor(
    private readonly slack: number,
    private readonly emit: (rec: number, uid: number, value: number, x: number) => void,
  ) {}

  /** One chunk of columns in stored order; false when order cannot be restored within the slack. */
  add(
    rec: ArrayLike<number>,
    pos: ArrayLike<number>,
    uid: ArrayLike<number>,
    value: ArrayLike<number>,
    x: ArrayLike<number>,
  ): boolean {
    const n = rec.length;
    const key = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = pos[i];
      if (!(p >= 0 && p < POSITIONS)) return false;
      key[i] = rec[i] * POSITIONS + p;
      if (key[i] <= this.lastOut) return false;
    }
    // Copies: the driver's arrays may view the chunk's native memory, kept only while it lives.
    const columns = {
      key,
      rec: Float64Array.from(rec),
      uid: Float64Array.from(uid),
      value: Float64Array.from(value),
      x: Float64Array.from(x),
    };
    for (let i = 0; i < n;) {
      let run = this.runs[this.runs.length - 1];
      if (run === undefined || key[i] <= run.last) {
        run = { pieces: [], piece: 0, at: 0, last: -1 };
        this.runs.push(run);
      }
      let j = i + 1;
      while (j < n && key[j] > key[j - 1]) j++;
      this.append(run, columns, i, j);
      i = j;
    }
    this.drain(this.held - this.slack);
    return true;
  }

  /** Passes on every row still held. */
  finish(): void {
    this.drain(this.held);
  }

  private append(run: SortedRun, c: SortedRun['pieces'][number], from: number, to: number): void {
    run.pieces.push({
      key: c.key.subarray(from, to),
      rec: c.rec.subarray(from, to),
      uid: c.uid.subarray(from, to),
      value: c.value.subarray(from, to),
      x: c.x.subarray(from, to),
    });
    run.last = c.key[to - 1];
    this.held += to - from;
  }

  private drain(count: number): void {
    const runs = this.runs;
    for (; count > 0; count--) {
      let best = -1;
      let bestKey = Infinity;
      for (let r = 0; r < runs.length; r++) {
        const run = runs[r];
        if (run.piece >= run.pieces.length) continue;
        const k = run.pieces[run.piece].key[run.at];
        if (k < bestKey) {
          bestKey = k;
          best = r;
        }
      }
      if (best < 0) return;
      const run = runs[best];
      const piece = run.pieces[run.piece];
      this.emit(piece.rec[run.at], piece.uid[run.at], piece.value[run.at], piece.x[run.at]);
      this.lastOut = bestKey;
      this.held--;
      if (++run.at === piece.key.length) {
        run.piece++;
        run.at = 0;
        if (run.piece >= 1024) {
          run.pieces.splice(0, run.piece);
          run.piece = 0;
        }
        // A run read to its end is dropped unless rows may still be appended to it (the last one).
        if (run.piece === run.pieces.length && best !== runs.length - 1) runs.splice(best, 1);
      }
    }
  }
}

async function replaySorted(run: Run, reward: string, replay: Replay): Promise<void> {
  for await (const [x, uid, value, fileId, rec] of run.session.numericChunks(
    `SELECT x, uid, CAST(${reward} AS DOUBLE), file_id, rec FROM uid_events
     WHERE ${reward} IS NOT NULL AND isfinite(${reward}) AND x IS NOT NULL ORDER BY ord, pos`,
  )) {
    for (let i = 0; i < x.length; i++) {
      replay.add(
        x[i] as number,
        uid[i] as number,
        value[i] as number,
        (fileId[i] as number) * 4294967296 + (rec[i] as number),
      );
    }
  }
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
