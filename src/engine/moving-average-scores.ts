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
  if (!(await replayFileByFile(run, r, replay))) {
    replay = new Replay(alpha, spec, Math.max(0, rows.maxUid));
    await replaySorted(run, r, replay);
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

/**
 * Replays file by file, each file's per-uid rows in insertion order, which is (record, position)
 * order: the ingest appends them that way. This avoids sorting every uid row of the run (tens of
 * millions on large runs). Each row's x comes from the file's events (`rows`, appended in record
 * order too), read alongside on a second connection (a merge, so memory does not grow with the
 * file). Both orders are checked as rows arrive; false means one did not hold and the caller
 * replays from a sorted query instead.
 */
async function replayFileByFile(run: Run, reward: string, replay: Replay): Promise<boolean> {
  const files = await run.session.all<{ file_id: number; first_ord: number }>(
    'SELECT file_id, CAST(first_ord AS DOUBLE) AS first_ord FROM files WHERE rows > 0 ORDER BY first_ord',
  );
  await run.session.run('SET preserve_insertion_order = true');
  try {
    for (const { file_id: fileId, first_ord: firstOrd } of files) {
      const keys = new KeyCursor(
        run.session.numericChunks(
          `SELECT rec, coalesce(${run.xOfFileRows(firstOrd)}, 'NaN'::DOUBLE) FROM rows WHERE file_id = ${fileId}`,
          { ownConnection: true },
        ),
      );
      try {
        let lastRec = -1;
        let lastPos = -1;
        for await (const [rec, pos, uid, value] of run.session.numericChunks(
          `SELECT rec, pos, uid, CAST(${reward} AS DOUBLE) FROM uid_rows
           WHERE file_id = ${fileId} AND ${reward} IS NOT NULL AND isfinite(${reward})`,
        )) {
          for (let i = 0; i < rec.length; i++) {
            const r = rec[i] as number;
            const p = pos[i] as number;
            if (r < lastRec || (r === lastRec && p <= lastPos)) return false;
            lastRec = r;
            lastPos = p;
            if (!keys.covers(r) && !(await keys.fill(r))) return false;
            const x = keys.xOf(r);
            if (Number.isNaN(x)) continue;
            replay.add(x, uid[i] as number, value[i] as number, fileId * 4294967296 + r);
          }
        }
      } finally {
        await keys.close();
      }
    }
    return true;
  } finally {
    await run.session.run('SET preserve_insertion_order = false');
  }
}

/** The (rec, x) rows of one file in record order, read forward chunk by chunk. */
class KeyCursor {
  private recs: ArrayLike<number> = [];
  private xs: ArrayLike<number> = [];
  private at = 0;
  private lastRec = -1;
  private done = false;

  constructor(private readonly chunks: AsyncGenerator<ArrayLike<number>[]>) {}

  /** Moves to the first key ≥ rec within the current chunk; true when that settles rec's x. */
  covers(rec: number): boolean {
    while (this.at < this.recs.length && this.recs[this.at] < rec) this.at++;
    return this.at < this.recs.length || this.done;
  }

  /** Reads chunks until one reaches rec (or the keys end); false when keys are out of order. */
  async fill(rec: number): Promise<boolean> {
    while (!this.covers(rec)) {
      const next = await this.chunks.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const [recs, xs] = next.value;
      for (let i = 0; i < recs.length; i++) {
        if (recs[i] <= this.lastRec) return false;
        this.lastRec = recs[i];
      }
      // Copies: the driver's arrays may view the chunk's native memory, kept only while it lives.
      this.recs = Float64Array.from(recs);
      this.xs = Float64Array.from(xs);
      this.at = 0;
    }
    return true;
  }

  /** x of rec, NaN when the file has no key for it; call after `covers`/`fill` for rec. */
  xOf(rec: number): number {
    return this.at < this.recs.length && this.recs[this.at] === rec ? this.xs[this.at] : NaN;
  }

  async close(): Promise<void> {
    await this.chunks.return(undefined);
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
