import { binIndexSql, binRanges, binsSpan, binSpec, heldBin, type BinRange, type BinSpec } from './bins.js';
import { exactSumSql, meanScale } from './exact-mean.js';
import { duckdb, fromWhere, type Dialect } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { columnsOverX } from './answers.js';
import { RANGE_ROWS } from './range-state.js';
import { ident, lit, sql, type Sql } from './sql.js';
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
  /** Updates above which the replay runs over ranges of bins, one query each (RANGE_ROWS). */
  pieceRows?: number;
}

// The replay reads at most RANGE_ROWS per-uid rows a query (about): more are split into ranges
// of whole bins. Its window sorts every update; 147 M of them (10 GB of FileTAO) sorted at once
// spilled to disk and took 62 s, in ten ranges of bins 37 s. Each range holds whole (bin, uid)
// groups, so the maps are the same; and each range's answer is kept while its rows stay the same
// (columnsOverX), so after an append only the ranges it reached are replayed again.

/**
 * The validator's moving-averaged scores as a uid × x-bin matrix. Logged scores are used when the
 * log has them; otherwise the state is rebuilt as the validator builds it, event by event in row
 * order: `score[uid] = α·reward + (1−α)·score[uid]` for each uid the event rewarded (finite rewards),
 * starting at 0. Each bin holds the state after its last event; a uid has no score (NaN) before
 * its first reward. Bins cut the run's x range (Run.xRange), like every chart over x.
 *
 * The replay is split where it is cheap: each uid's updates within one bin compose to one affine
 * map s ↦ A·s + B, with A = (1−α)^n and B = Σ α·rᵢ·(1−α)^(updates after i in the bin), the replay of
 * the bin's rewards from 0 (SQL: each update's rank in its bin by a window, an exact sum); JavaScript
 * composes the maps bin after bin. Only one number pair per (uid, bin) leaves DuckDB, whatever the
 * run's size, and DuckDB's window spills to disk rather than holding every update in memory (an
 * ordered list per (uid, bin) did, and ran out of memory on 1 GB of FileTAO at 400 bins).
 */
export async function movingAverageScores(
  run: QueryableRun,
  options: ScoreOptions = {},
): Promise<ScoreMatrix | undefined> {
  const alpha = options.alpha ?? 0.05;
  const maxBins = options.maxBins ?? 200;
  const d = run.dialect;
  const logged = await run.answers.one<{ n: number }>(
    sql`SELECT CAST(count(*) AS DOUBLE) AS n ${fromWhere(d, 'uid_indexed', [sql`${ident('kind')} = ${lit('moving_averaged_scores')}`])}`
      .text,
  );
  if ((logged?.n ?? 0) > 0) return loggedScores(run, alpha, maxBins);
  const reward = options.rewardColumn ?? 'rewards';
  if (!run.storedColumns('uid_rows').has(reward)) return undefined;
  const range = await run.xRange();
  if (range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  // Row order visits the bins in order unless x goes back somewhere: then the replay runs over
  // stretches of consecutive events in one bin, and a bin holds the state after its last stretch.
  const back = await run.answers.one<{ n: number }>(xGoesBackSql(spec, d).text);
  const monotonic = (back?.n ?? 0) === 0;
  // Where x only goes forward, a bin's updates are its stretch: ranges of bins replay apart.
  const ranges = monotonic
    ? binRanges(spec.count, run.ingest.uidRows, options.pieceRows ?? RANGE_ROWS)
    : [undefined];
  // The largest |reward| (the exact sums' scale) and the events replayed, range by range.
  let largest = 0;
  let events = 0;
  for (const bins of ranges) {
    const part = await columnsOverX(
      run.answers,
      rewardsInBinsSql(reward, spec, d, bins).text,
      binsSpan(spec, bins, 1),
    );
    largest = Math.max(largest, Number(part.m?.[0] ?? 0));
    events += Number(part.n?.[0] ?? 0);
  }
  const scale = meanScale(alpha * largest);
  const parts: Record<string, unknown[]>[] = [];
  for (const bins of ranges)
    parts.push(
      await columnsOverX(
        run.answers,
        scoreMapsSql(reward, spec, alpha, scale, monotonic, d, bins).text,
        binsSpan(spec, bins, 1),
      ),
    );
  const maps = concatColumns(parts);
  const uidColumn = ((maps.key ?? []) as number[]).map(Number);
  if (!uidColumn.length) return undefined;
  const uids = [...new Set(uidColumn)].sort((a, b) => a - b);
  const rowOf = new Map(uids.map((u, i) => [u, i]));
  const values = new Float64Array(uids.length * spec.count).fill(NaN);
  const state = new Float64Array(uids.length).fill(NaN);
  const stretches = maps.stretch as number[];
  const bins = (maps.bin as number[]).map((b) => heldBin(b, spec));
  const counts = maps.n as number[];
  const offsets = maps.b as number[];
  const lastStretch = (maps.last as (boolean | number)[]).map(Boolean);
  /** Bins whose every cell was set (x went back): a missing score there stays missing. */
  const visited = new Uint8Array(spec.count);
  // Rows come ordered by stretch (= bin when x only goes forward), then uid.
  for (let i = 0; i < stretches.length; i++) {
    const row = rowOf.get(uidColumn[i])!;
    const before = Number.isNaN(state[row]) ? 0 : state[row];
    state[row] = Math.pow(1 - alpha, counts[i]) * before + offsets[i];
    if (monotonic) values[row * spec.count + bins[i]] = state[row];
    const endOfStretch = i + 1 === stretches.length || stretches[i + 1] !== stretches[i];
    // x went back: every uid's state at the end of a bin's last stretch.
    if (!monotonic && endOfStretch && lastStretch[i]) {
      visited[bins[i]] = 1;
      for (let r = 0; r < uids.length; r++) values[r * spec.count + bins[i]] = state[r];
    }
  }
  if (monotonic) forwardFill(values, uids.length, spec.count);
  else carryIntoUnvisited(values, uids.length, spec.count, visited);
  return { uids, spec, values, source: 'reconstructed', alpha, events };
}

/** Bins no event fell in hold the bin before them (in x order). */
function carryIntoUnvisited(values: Float64Array, rows: number, cols: number, visited: Uint8Array): void {
  for (let row = 0; row < rows; row++)
    for (let col = 1; col < cols; col++)
      if (!visited[col]) values[row * cols + col] = values[row * cols + col - 1];
}

/** Events where x's bin is below the bin of the event before (in row order). */
export function xGoesBackSql(spec: BinSpec, d: Dialect = duckdb) {
  const x = ident('x');
  const binned = sql`SELECT ord, ${binIndexSql('x', spec)} AS bin ${fromWhere(d, 'events', [sql`${x} IS NOT NULL`, d.isFinite(x)])}`;
  if (d.name === 'clickhouse')
    // No lag() before ClickHouse 21: the bins in row order as one array.
    return sql`SELECT CAST(arrayCount((v, i) -> i > 1 AND v.2 < a[i - 1].2, a, arrayEnumerate(a)) AS DOUBLE) AS n
      FROM (SELECT arraySort(v -> v.1, groupArray((ord, bin))) AS a FROM (${binned}))`;
  return sql`SELECT CAST(count(*) AS DOUBLE) AS n FROM (
      SELECT bin, lag(bin) OVER (ORDER BY ord) AS before
      FROM (${binned}))
    WHERE bin < before`;
}

/** The per-uid rows that update a score: a finite reward of a uid ≥ 0 at a finite x. */
function updates(reward: string, d: Dialect): Sql[] {
  const r = ident(reward);
  const x = ident('x');
  return [sql`${r} IS NOT NULL`, d.isFinite(r), sql`${x} IS NOT NULL`, d.isFinite(x), sql`uid >= 0`];
}

/** The updates in a range of bins (all: undefined), x held to the range first (scoreMapsSql). */
function updatesInBins(reward: string, spec: BinSpec, d: Dialect, bins: BinRange): Sql[] {
  const x = ident('x');
  const bin = binIndexSql('x', spec);
  const span = binsSpan(spec, bins, 1);
  return [
    ...updates(reward, d),
    ...(bins && span.from > -Infinity
      ? [sql`${x} >= ${lit(span.from)}`, sql`${bin} >= ${lit(bins.from)}`]
      : []),
    ...(bins && span.to < Infinity ? [sql`${x} < ${lit(span.to)}`, sql`${bin} < ${lit(bins.to)}`] : []),
  ];
}

/** The largest |reward| (m) and the events (n) among a range's updates. */
export function rewardsInBinsSql(reward: string, spec: BinSpec, d: Dialect = duckdb, bins?: BinRange): Sql {
  return sql`SELECT max(abs(${d.double(ident(reward))})) AS m, ${d.double(sql`count(DISTINCT ord)`)} AS n ${fromWhere(d, 'uid_events', updatesInBins(reward, spec, d, bins))}`;
}

/** Query results (columns by name) one after the other. */
function concatColumns(parts: readonly Record<string, unknown[]>[]): Record<string, unknown[]> {
  if (parts.length === 1) return parts[0];
  const out: Record<string, unknown[]> = {};
  // A loop, not push(...values): a part can hold more values than a call takes arguments.
  for (const part of parts)
    for (const [name, values] of Object.entries(part)) {
      const column = (out[name] ??= []);
      for (const value of values) column.push(value);
    }
  return out;
}

/**
 * Per (stretch, uid): the number of updates n and B = Σ α·rᵢ·(1−α)^(updates after i in the
 * stretch), the state its updates reach from 0 — an exact sum (exactSumSql at `scale`), so the
 * same bits whatever DuckDB's threads do. A stretch is a bin when x only goes forward
 * (`monotonic`), else a run of consecutive events with updates
 * in one bin, in row order; `last` says whether it is its bin's last stretch. `bins`: only the
 * bins from … to − 1 (x only going forward): x is first held to a range one bin wider on each side
 * (which lets DuckDB skip row groups), then each row's bin decides.
 */
export function scoreMapsSql(
  reward: string,
  spec: BinSpec,
  alpha: number,
  scale: number,
  monotonic = true,
  d: Dialect = duckdb,
  bins?: { from: number; to: number },
) {
  const r = ident(reward);
  const bin = binIndexSql('x', spec);
  const term = sql`${lit(alpha)} * ${d.double(r)} * pow(${lit(1 - alpha)}, later)`;
  const fold = sql`CAST(count(*) AS DOUBLE) AS n, ${exactSumSql(term, scale, d)} AS b`;
  const rows = fromWhere(d, 'uid_events', updatesInBins(reward, spec, d, bins));
  if (d.name === 'clickhouse') return scoreMapsClickHouse(r, bin, fold, rows, monotonic);
  // The updates after each one within its (stretch, uid): its exponent.
  const later = sql`row_number() OVER (PARTITION BY stretch, uid ORDER BY ord DESC, pos DESC) - 1 AS later`;
  if (monotonic)
    return sql`SELECT stretch, stretch AS bin, uid AS key, ${fold}, true AS last FROM (
        SELECT stretch, uid, ${r}, ${later} FROM (
          SELECT ${bin} AS stretch, uid, ${r}, ord, pos ${rows}))
      GROUP BY stretch, uid ORDER BY stretch, uid`;
  return sql`WITH binned AS (SELECT DISTINCT ord, ${bin} AS bin ${rows}),
    stretches AS (
      SELECT ord, bin, sum(CASE WHEN bin IS DISTINCT FROM before THEN 1 ELSE 0 END) OVER (ORDER BY ord) AS stretch
      FROM (SELECT ord, bin, lag(bin) OVER (ORDER BY ord) AS before FROM binned)),
    last AS (SELECT bin, max(stretch) AS stretch FROM stretches GROUP BY bin),
    ranked AS (
      SELECT s.stretch, s.bin, u.uid, u.${r}, ${later}
      FROM (SELECT uid, ${r}, ord, pos ${rows}) u JOIN stretches s USING (ord))
    SELECT k.stretch, k.bin, k.uid AS key, ${fold}, any_value(k.stretch = l.stretch) AS last
    FROM ranked k JOIN last l USING (bin)
    GROUP BY k.stretch, k.bin, k.uid ORDER BY k.stretch, k.uid`;
}

/**
 * scoreMapsSql without window functions (ClickHouse before 21): each (stretch, uid)'s updates as
 * an array sorted by place, whose index gives each update's exponent; stretches (x going back)
 * from the array of the events' bins in row order.
 */
function scoreMapsClickHouse(r: Sql, bin: Sql, fold: Sql, rows: Sql, monotonic: boolean): Sql {
  const ranked = (source: Sql) => sql`SELECT stretch, bin, uid, e.3 AS ${r}, len - i AS later FROM (
      SELECT stretch, bin, uid, arraySort(v -> (v.1, v.2), groupArray((ord, pos, toFloat64(${r})))) AS a, length(a) AS len
      FROM (${source}) GROUP BY stretch, bin, uid)
    ARRAY JOIN a AS e, arrayEnumerate(a) AS i`;
  if (monotonic)
    return sql`SELECT stretch, bin, uid AS key, ${fold}, 1 AS last FROM (
        ${ranked(sql`SELECT ${bin} AS stretch, ${bin} AS bin, uid, ${r}, ord, pos ${rows}`)})
      GROUP BY stretch, bin, uid ORDER BY stretch, uid`;
  // Stretches: runs of consecutive update events (row order) in one bin, numbered from 1; `last`:
  // the bin's last stretch.
  const stretches = sql`SELECT e.1 AS ord, e.2 AS bin, s AS stretch FROM (
      SELECT a, arrayCumSum(arrayMap((v, i) -> i = 1 OR v.2 != a[i - 1].2, a, arrayEnumerate(a))) AS ss
      FROM (SELECT arraySort(v -> v.1, groupArray((ord, bin))) AS a FROM (SELECT DISTINCT ord, ${bin} AS bin ${rows})))
    ARRAY JOIN a AS e, ss AS s`;
  const source = sql`SELECT stretch, bin, uid, ${r}, ord, pos FROM (SELECT uid, ${r}, ord, pos ${rows})
    ALL INNER JOIN (${stretches}) USING (ord)`;
  return sql`SELECT stretch, bin, uid AS key, ${fold}, max(stretch = last_stretch) AS last FROM (
      SELECT stretch, bin, uid, ${r}, later FROM (${ranked(source)}))
    ALL INNER JOIN (SELECT bin, max(stretch) AS last_stretch FROM (${stretches}) GROUP BY bin) USING (bin)
    GROUP BY stretch, bin, uid ORDER BY stretch, uid`;
}

async function loggedScores(
  run: QueryableRun,
  alpha: number,
  maxBins: number,
): Promise<ScoreMatrix | undefined> {
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
