import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionDiversitySql } from '../src/analysis/completion-diversity.js';
import { completionRatesSql, frequentCompletionsSql } from '../src/analysis/completion-rates.js';
import { completionSimilaritySql } from '../src/analysis/completion-similarity.js';
import { eventConditions, eventFilters, nonEmptyCompletion, whereClause } from '../src/analysis/filters.js';
import { bucketExpression, intervalRangeSql, type Interval } from '../src/analysis/interval.js';
import { leaderboardSql } from '../src/analysis/leaderboard.js';
import { regexCheckSql } from '../src/analysis/regex.js';
import { tasksSql, uidEventsWithTimeSql } from '../src/analysis/run-columns.js';
import { SUCCESS_DEFINITIONS, successDefinitionsSql, successRateSql } from '../src/analysis/success-rate.js';
import { bucketCountsSql, unplacedEventsSql } from '../src/analysis/throughput.js';
import {
  topWeightUidsSql,
  weightIntervalsSql,
  weightRowsSql,
  weightValuesSql,
  weightVectorsSql,
} from '../src/analysis/weights-over-time.js';
import {
  binnedRangeSql,
  binnedSeriesSql,
  sampleKey,
  taskFilter,
  xRangeSql,
} from '../src/engine/binned-stats.js';
import { duckdb } from '../src/engine/dialect.js';
import { binIndexSql } from '../src/engine/bins.js';
import { blockDurationRowsSql, blockDurationsSql, blockRangeSql } from '../src/engine/block-durations.js';
import { exactMeanSql, maxAbsesSql, maxAbsSql } from '../src/engine/exact-mean.js';
import { scoreMapsSql } from '../src/engine/moving-average-scores.js';
import { positionCountsSql } from '../src/engine/positions.js';
import { populationSql, reservoirSql } from '../src/engine/reservoir.js';
import { sampleHash, sampleHashSql } from '../src/engine/sample-hash.js';
import { Session } from '../src/engine/session.js';
import { ident, lit, sql, type Sql } from '../src/engine/sql.js';
import {
  uidIndexedMatrixSql,
  uidIndexedVectorsSql,
  weightKindsSql,
} from '../src/engine/uid-indexed-matrix.js';
import { uidPerformanceSql } from '../src/engine/uid-performance.js';

/**
 * Every aggregate's SQL builder: its exact text for a small case, and that DuckDB (in memory) binds
 * it — `EXPLAIN` — against tables shaped like the run index's views, with field names that hold
 * quotes, dots and differ only in case (DuckDB matches identifiers case-insensitively even when
 * quoted, so the index names the second of `Loss`/`loss` `loss~2`).
 */

let session: Session;

beforeAll(async () => {
  session = await Session.create({ threads: 1 });
  const statements = [
    `CREATE TABLE rows (file_id INTEGER, rec BIGINT, line BIGINT, "block" DOUBLE, "_timestamp" DOUBLE,
       "task_name" VARCHAR, "position.map" DOUBLE, "position.x" DOUBLE, "position.y" DOUBLE,
       "Loss" DOUBLE, "loss~2" DOUBLE, "a""b" DOUBLE, "c.d" DOUBLE, "it's" DOUBLE)`,
    `INSERT INTO rows VALUES
       (0, 0, 1, 100, 1000, 'Store', 0, 1, 2, 1, 100, 7, 8, 9),
       (0, 1, 2, 101, 1012, 'Retrieve', 0, 1, 2, 3, 300, 'NaN', 16, 9),
       (1, 0, 1, 103, 1030, 'Store', 1, 5, 5, 5, 500, 21, 24, 9)`,
    `CREATE VIEW events AS SELECT r.*, CAST(rec + 2 * file_id AS BIGINT) AS ord, "block" AS x, "task_name" AS task FROM rows r`,
    `CREATE TABLE uid_rows (file_id INTEGER, rec BIGINT, line BIGINT, pos INTEGER, uid INTEGER,
       "rewards" DOUBLE, "Rewards~2" DOUBLE, "completions" VARCHAR, "successful" DOUBLE, "completion_times" DOUBLE)`,
    `INSERT INTO uid_rows VALUES
       (0, 0, 1, 0, 3, 0.5, 50, 'a', 1, 2.5), (0, 0, 1, 1, 4, 'NaN', 60, '', 0, NULL),
       (0, 1, 2, 0, 3, 0.25, 70, 'b', 1, 1.5), (1, 0, 1, 0, 4, 1, 80, 'a', 0, 4)`,
    `CREATE VIEW uid_events AS SELECT u.*, CAST(u.rec + 2 * u.file_id AS BIGINT) AS ord, e.x, e.task
       FROM uid_rows u JOIN events e USING (file_id, rec)`,
    `CREATE TABLE uid_indexed (file_id INTEGER, rec BIGINT, line BIGINT, kind VARCHAR, uid INTEGER, value DOUBLE)`,
    `INSERT INTO uid_indexed VALUES (0, 1, 2, 'set_weights', 0, 0.25), (0, 1, 2, 'set_weights', 1, 0.75)`,
    `CREATE VIEW uid_indexed_events AS SELECT i.*, e.ord, e.x FROM uid_indexed i JOIN events e USING (file_id, rec)`,
  ];
  for (const statement of statements) await session.run(statement);
});

afterAll(() => session.close());

/** The builder's exact text, and DuckDB binds and plans it. */
async function expectSql(query: Sql, text: string): Promise<void> {
  expect(query.text).toBe(text);
  await session.run(`EXPLAIN ${query.text}`);
}

/** The text exactMeanSql writes for `expr` at a scale of 2 · half (checked literally below). */
function mean(expr: string, half: number): string {
  const v = `CAST(${expr} AS DOUBLE)`;
  const filter = `FILTER (WHERE isfinite(${v}))`;
  const sum = `sum(CASE WHEN isfinite(${v}) THEN CAST(round(((${v} * pow(2.0, ${half})) * pow(2.0, ${half}))) AS HUGEINT) END) ${filter}`;
  const count = `count(${v}) ${filter}`;
  return `(((CAST(${sum} // ${count} AS DOUBLE) + CAST(${sum} % ${count} AS DOUBLE) / ${count}) * pow(2.0, (-${half}))) * pow(2.0, (-${half})))`;
}

const spec = { x0: 10, width: 2.5, count: 4 };
const BIN = 'CAST(floor(("x" - 10) / 2.5) AS INTEGER)';

describe('typed parts', () => {
  it('quote identifiers with quotes, dots and case, and literals of every kind', async () => {
    expect(ident('a"b').text).toBe('"a""b"');
    expect(ident('c.d').text).toBe('"c.d"');
    expect(lit("it's").text).toBe("'it''s'");
    expect(lit(-1).text).toBe('(-1)');
    expect(lit(NaN).text).toBe("CAST('NaN' AS DOUBLE)");
    const row = await session.one(
      sql`SELECT ${ident('a"b')} AS q, ${ident('c.d')} AS d, ${ident("it's")} AS s, ${ident('Loss')} AS upper, ${ident('loss~2')} AS lower FROM rows WHERE rec = 0 AND file_id = 0`
        .text,
    );
    expect(row).toEqual({ q: 7, d: 8, s: 9, upper: 1, lower: 100 });
    // Why the index renames the second of two names that differ only in case.
    expect(
      await session.one(sql`SELECT ${ident('LOSS')} AS v FROM rows WHERE rec = 0 AND file_id = 0`.text),
    ).toEqual({ v: 1 });
  });

  it('the exact mean', async () => {
    const text =
      '(((CAST(sum(CASE WHEN isfinite(CAST("a""b" AS DOUBLE)) THEN CAST(round(((CAST("a""b" AS DOUBLE) * pow(2.0, 2)) * pow(2.0, 1))) AS HUGEINT) END) FILTER (WHERE isfinite(CAST("a""b" AS DOUBLE))) // count(CAST("a""b" AS DOUBLE)) FILTER (WHERE isfinite(CAST("a""b" AS DOUBLE))) AS DOUBLE) + CAST(sum(CASE WHEN isfinite(CAST("a""b" AS DOUBLE)) THEN CAST(round(((CAST("a""b" AS DOUBLE) * pow(2.0, 2)) * pow(2.0, 1))) AS HUGEINT) END) FILTER (WHERE isfinite(CAST("a""b" AS DOUBLE))) % count(CAST("a""b" AS DOUBLE)) FILTER (WHERE isfinite(CAST("a""b" AS DOUBLE))) AS DOUBLE) / count(CAST("a""b" AS DOUBLE)) FILTER (WHERE isfinite(CAST("a""b" AS DOUBLE)))) * pow(2.0, (-2))) * pow(2.0, (-1)))';
    expect(exactMeanSql(ident('a"b'), 3).text).toBe(text);
    // An aggregate is not a statement of its own: DuckDB binds it in one.
    await session.run(`EXPLAIN SELECT ${text} FROM rows`);
    expect(mean('"x"', 40)).toBe(exactMeanSql(ident('x'), 80).text);
    const row = await session.one(
      sql`SELECT ${exactMeanSql(ident('a"b'), 90)} AS m, ${maxAbsSql(ident('a"b'))} AS top FROM rows`.text,
    );
    expect(row).toEqual({ m: 14, top: 21 });
    await expectSql(
      maxAbsesSql(ident('events'), [ident('Loss'), ident('loss~2')]),
      'SELECT max(abs(CAST("Loss" AS DOUBLE))) FILTER (WHERE isfinite(CAST("Loss" AS DOUBLE))) AS "m0", max(abs(CAST("loss~2" AS DOUBLE))) FILTER (WHERE isfinite(CAST("loss~2" AS DOUBLE))) AS "m1" FROM "events"',
    );
    expect(await session.one(maxAbsesSql(ident('events'), [ident('Loss'), ident('loss~2')]).text)).toEqual({
      m0: 5,
      m1: 500,
    });
  });

  it('bins and the event filters', async () => {
    expect(binIndexSql(ident('x'), spec).text).toBe(BIN);
    const filters = eventFilters({ task: ["it's", 'Store'], xRange: { min: -1, max: 2.5 } });
    expect(whereClause(filters).text).toBe(
      ` WHERE ("task" IN ('it''s', 'Store')) AND ("x" >= (-1)) AND ("x" <= 2.5)`,
    );
    expect(whereClause(eventFilters({ task: ['a'] }, 'e')).text).toBe(` WHERE ("e"."task" IN ('a'))`);
    expect(whereClause([]).text).toBe('');
    expect(eventConditions({ xRange: { min: 3 } })).toEqual(['"x" >= 3']);
    expect(taskFilter("it's").text).toBe(`"task" = 'it''s'`);
    expect(nonEmptyCompletion().text).toBe(`"completions" IS NOT NULL AND "completions" <> ''`);
  });
});

describe('engine aggregates', () => {
  it('reservoir: the hash, the population and the sample', async () => {
    const k =
      '((((CAST("line" AS BIGINT) * 2654435761) & 4294967295) + ((CAST("pos" AS BIGINT) * 2246822519) & 4294967295) + ((CAST("file_id" AS BIGINT) * 3266489917) & 4294967295) + 382889545) & 4294967295)';
    const round = (x: string) => `((xor(${x}, ${x} >> 16) * 73244475) & 4294967295)`;
    const hash = `xor(${round(round(k))}, ${round(round(k))} >> 16)`;
    expect(sampleHashSql(7, ident('file_id'), ident('line'), ident('pos')).text).toBe(hash);
    // The SQL hash is the JS reference's, bit for bit, up to 2^31 for each input.
    const inputs = [0, 1, 2, 16, 65_535, 65_536, 1_234_567, 2 ** 31 - 1];
    const cases = inputs.flatMap((line, i) => [
      [i % 3, line, inputs[(i * 5) % inputs.length]],
      [line, 3, 7],
    ]);
    for (const seed of [0, 7, 2 ** 32 - 1]) {
      const rows = await session.all<{ h: bigint }>(
        `SELECT ${sampleHashSql(seed, ident('f'), ident('l'), ident('p')).text} AS h FROM (VALUES ${cases.map(([f, l, p]) => `(${f}, ${l}, ${p})`).join(', ')}) t(f, l, p)`,
      );
      expect(rows.map((r) => Number(r.h))).toEqual(cases.map(([f, l, p]) => sampleHash(seed, f, l, p)));
    }
    await expectSql(
      populationSql('uid_events', sql`${ident('rewards')} > 0`),
      'SELECT CAST(count(*) AS DOUBLE) AS n FROM "uid_events" WHERE ("rewards" > 0)',
    );
    await expectSql(
      reservoirSql({ table: 'uid_events', columns: ['x', 'Rewards~2', 'rewards'], size: 2, seed: 7 }),
      `SELECT "x", "Rewards~2", "rewards" FROM (SELECT "x", "Rewards~2", "rewards", "ord" AS "__runlens_ord", "pos" AS "__runlens_pos" FROM "uid_events" ORDER BY ${hash}, "__runlens_ord", "__runlens_pos" LIMIT 2) ORDER BY "__runlens_ord", "__runlens_pos"`,
    );
    const events = reservoirSql({
      table: 'events',
      columns: ['a"b'],
      size: 10,
      seed: 1,
      where: sql`${ident('c.d')} > 8`,
    });
    expect(events.text).toContain(`FROM "events" WHERE ("c.d" > 8) ORDER BY`);
    expect(await session.columns(events.text)).toEqual({ 'a"b': [NaN, 21] });
  });

  it('position counts', async () => {
    await expectSql(
      positionCountsSql(),
      'SELECT CAST("position.map" AS INTEGER) AS "map", CAST("position.x" AS INTEGER) AS "x", CAST("position.y" AS INTEGER) AS "y", CAST(count(*) AS DOUBLE) AS "visits" FROM "rows" WHERE ("position.map" IS NOT NULL) AND ("position.x" IS NOT NULL) AND ("position.y" IS NOT NULL) GROUP BY "map", "x", "y" ORDER BY "map", "y", "x"',
    );
    expect(await session.columns(positionCountsSql().text)).toEqual({
      map: [0, 1],
      x: [1, 5],
      y: [2, 5],
      visits: [2, 1],
    });
  });

  it('uid-indexed matrices', async () => {
    const scope = `("kind" = 'it''s') AND ("x" IS NOT NULL) AND (isfinite("x")) AND (isfinite("value")) AND ("uid" >= 0)`;
    await expectSql(
      uidIndexedVectorsSql("it's"),
      `SELECT CAST(count(DISTINCT "ord") AS DOUBLE) AS n FROM "uid_indexed_events" WHERE ${scope}`,
    );
    await expectSql(
      uidIndexedMatrixSql("it's", spec),
      `SELECT ${BIN} AS "bin", "uid" AS "key", arg_max("value", "ord") AS "last" FROM "uid_indexed_events" WHERE ${scope} GROUP BY "bin", "uid" ORDER BY "bin", "uid"`,
    );
    expect(
      await session.columns(uidIndexedMatrixSql('set_weights', { x0: 100, width: 1, count: 4 }).text),
    ).toEqual({
      bin: [1, 1],
      key: [0, 1],
      last: [0.25, 0.75],
    });
    await expectSql(
      weightKindsSql(),
      `SELECT "kind", CAST(count(DISTINCT "ord") AS DOUBLE) AS n FROM "uid_indexed_events" WHERE ("kind" IN ('set_weights', 'neuron_weights')) AND ("x" IS NOT NULL) AND (isfinite("x")) GROUP BY "kind" ORDER BY n DESC, "kind"`,
    );
  });

  it('binned statistics: the range and each column’s series', async () => {
    await expectSql(
      binnedRangeSql({ table: 'uid_events', columns: ['Rewards~2', 'rewards'], where: taskFilter("it's") }),
      `SELECT min("x") AS "min", max("x") AS "max", bool_and("x" = round("x")) AS "integer", CAST(count(*) AS DOUBLE) AS n, CAST(max("ord") AS DOUBLE) AS max_ord, CAST(max("pos") AS DOUBLE) AS max_pos, max(abs(CAST("Rewards~2" AS DOUBLE))) FILTER (WHERE isfinite(CAST("Rewards~2" AS DOUBLE))) AS "m0", max(abs(CAST("rewards" AS DOUBLE))) FILTER (WHERE isfinite(CAST("rewards" AS DOUBLE))) AS "m1" FROM "uid_events" WHERE ("x" IS NOT NULL) AND (isfinite("x")) AND ("task" = 'it''s')`,
    );
    await expectSql(
      binnedRangeSql({ table: 'events', columns: [] }),
      `SELECT min("x") AS "min", max("x") AS "max", bool_and("x" = round("x")) AS "integer", CAST(count(*) AS DOUBLE) AS n, CAST(max("ord") AS DOUBLE) AS max_ord, CAST(NULL AS DOUBLE) AS max_pos FROM "events" WHERE ("x" IS NOT NULL) AND (isfinite("x"))`,
    );
    expect(xRangeSql({})).toBeUndefined();
    expect(xRangeSql({ xmin: 1.5 })!.text).toBe('("x" >= 1.5)');
    expect(xRangeSql({ xmin: -1, xmax: 2 }, '_runtime')!.text).toBe(
      '(CAST("_runtime" AS DOUBLE) >= (-1)) AND (CAST("_runtime" AS DOUBLE) <= 2)',
    );
    await expectSql(
      binnedRangeSql({ table: 'events', columns: [], where: xRangeSql({ xmin: 1, xmax: 2 }) }),
      `SELECT min("x") AS "min", max("x") AS "max", bool_and("x" = round("x")) AS "integer", CAST(count(*) AS DOUBLE) AS n, CAST(max("ord") AS DOUBLE) AS max_ord, CAST(NULL AS DOUBLE) AS max_pos FROM "events" WHERE ("x" IS NOT NULL) AND (isfinite("x")) AND (("x" >= 1) AND ("x" <= 2))`,
    );
    const tail = (v: string) =>
      `min(${v}) FILTER (WHERE isfinite(${v})) AS lo, max(${v}) FILTER (WHERE isfinite(${v})) AS hi`;
    const last = (v: string, order: string) =>
      `arg_max(${v}, ${order}) FILTER (WHERE isfinite(${v})) AS "last", CAST(count(*) FILTER (WHERE NOT isfinite(${v})) AS DOUBLE) AS non_finite`;
    const head = (group: string, v: string) =>
      `SELECT ${group} AS grp, ${BIN} AS bin, ${mean('"x"', 40)} AS x_mean, CAST(count(*) FILTER (WHERE isfinite(${v})) AS DOUBLE) AS n, ${mean(v, 45)} AS mean,`;
    await expectSql(
      binnedSeriesSql({ table: 'events', column: 'Loss', spec, band: [0.1, 0.9], xScale: 80, scale: 90 }),
      `${head('CAST(NULL AS VARCHAR)', '"Loss"')} ${tail('"Loss"')}, quantile_cont("Loss", [0.1, 0.9]) FILTER (WHERE isfinite("Loss")) AS q, ${last('"Loss"', '"ord"')} FROM "events" WHERE ("x" IS NOT NULL) AND (isfinite("x")) AND ("Loss" IS NOT NULL) GROUP BY grp, bin ORDER BY grp NULLS FIRST, bin`,
    );
    await expectSql(
      binnedSeriesSql({
        table: 'uid_events',
        column: 'Rewards~2',
        spec,
        band: [0.25, 0.75],
        groupBy: 'uid',
        quantileSample: 64,
        packedOrder: true,
        xScale: 80,
        scale: 90,
        where: taskFilter('Store'),
      }),
      `${head('CAST("uid" AS VARCHAR)', '"Rewards~2"')} ${tail('"Rewards~2"')}, list_aggregate(arg_min("Rewards~2", ${sampleKey(true, duckdb).text}, 64) FILTER (WHERE isfinite("Rewards~2")), 'quantile_cont', [0.25, 0.75]) AS q, ${last('"Rewards~2"', '("ord" * 1048576 + "pos")')} FROM "uid_events" WHERE ("x" IS NOT NULL) AND (isfinite("x")) AND ("task" = 'Store') AND ("Rewards~2" IS NOT NULL) GROUP BY grp, bin ORDER BY grp NULLS FIRST, bin`,
    );
    await expectSql(
      binnedSeriesSql({
        table: 'uid_events',
        column: 'rewards',
        spec,
        band: [0.1, 0.9],
        groupBy: 'task',
        xScale: 80,
        scale: 90,
      }),
      `${head('"task"', '"rewards"')} ${tail('"rewards"')}, quantile_cont("rewards", [0.1, 0.9]) FILTER (WHERE isfinite("rewards")) AS q, ${last('"rewards"', `{'o': "ord", 'p': "pos"}`)} FROM "uid_events" WHERE ("x" IS NOT NULL) AND (isfinite("x")) AND ("rewards" IS NOT NULL) GROUP BY grp, bin ORDER BY grp NULLS FIRST, bin`,
    );
    // Each name reads its own column.
    const rows = async (column: string) =>
      (await session.columns(
        binnedSeriesSql({
          table: 'events',
          column,
          spec: { x0: 100, width: 10, count: 1 },
          band: [0, 1],
          xScale: 80,
          scale: 80,
        }).text,
      )) as Record<string, number[]>;
    expect(await rows('Loss')).toMatchObject({ n: [3], mean: [3], lo: [1], hi: [5], last: [5] });
    expect(await rows('loss~2')).toMatchObject({ n: [3], mean: [300], lo: [100], hi: [500] });
    expect(await rows('a"b')).toMatchObject({ n: [2], mean: [14], last: [21], non_finite: [1] });
  });

  it('per-uid performance', async () => {
    await expectSql(
      uidPerformanceSql({ successful: true, completionTimes: true }),
      'SELECT "uid" AS "key", CASE WHEN count("successful") > 0 THEN CAST(count(*) FILTER (WHERE "successful" <> 0) AS DOUBLE) / count("successful") END AS rate, quantile_cont("completion_times", [0.1, 0.25, 0.5, 0.75, 0.9]) FILTER (WHERE isfinite("completion_times")) AS q, CAST(count(*) AS DOUBLE) AS n FROM (SELECT "uid", "successful", "completion_times" FROM "uid_events" WHERE ("uid" >= 0)) GROUP BY "uid" ORDER BY "uid"',
    );
    await expectSql(
      uidPerformanceSql({ successful: false, completionTimes: false }),
      'SELECT "uid" AS "key", CAST(NULL AS DOUBLE) AS rate, CAST(NULL AS DOUBLE[]) AS q, CAST(count(*) AS DOUBLE) AS n FROM (SELECT "uid" FROM "uid_events" WHERE ("uid" >= 0)) GROUP BY "uid" ORDER BY "uid"',
    );
    // Sampled: the place's hash is computed once per row, in the inner SELECT, and the quantile's
    // filter reads it by name (inlined there, DuckDB evaluated its repeated terms for each use).
    const sampled = uidPerformanceSql({ successful: true, completionTimes: true }, 392_623).text;
    const hash = sampleHashSql(0, ident('file_id'), ident('line'), ident('pos')).text;
    expect(sampled).toContain(
      `FROM (SELECT "uid", "successful", "completion_times", ${hash} AS "__place" FROM "uid_events"`,
    );
    expect(sampled.split(hash).length).toBe(2);
    expect(sampled).toContain('FILTER (WHERE isfinite("completion_times") AND "__place" % 1000003 < 392623)');
    await session.run(`EXPLAIN ${sampled}`);
    const cols = await session.columns(uidPerformanceSql({ successful: true, completionTimes: true }).text);
    expect(cols.key).toEqual([3, 4]);
    expect(cols.rate).toEqual([1, 0]);
    expect(cols.n).toEqual([2, 2]);
  });

  it('replayed score maps: one query, or ranges of whole bins that give the same rows', async () => {
    const blocks = { x0: 100, width: 1, count: 4 };
    const bin = 'CAST(floor((x - 100) / 1) AS INTEGER)';
    const updates =
      '("rewards" IS NOT NULL) AND (isfinite("rewards")) AND ("x" IS NOT NULL) AND (isfinite("x")) AND (uid >= 0)';
    const whole = scoreMapsSql('rewards', blocks, 0.5, 4);
    expect(whole.text).toContain(`FROM "uid_events" WHERE ${updates}))`);
    const pieces = [
      [{ from: 0, to: 1 }, ` AND ("x" < 102) AND (${bin} < 1)`],
      [{ from: 1, to: 3 }, ` AND ("x" >= 100) AND (${bin} >= 1) AND ("x" < 104) AND (${bin} < 3)`],
      [{ from: 3, to: 4 }, ` AND ("x" >= 102) AND (${bin} >= 3)`],
    ] as const;
    const rows: Record<string, unknown[]>[] = [];
    for (const [bins, where] of pieces) {
      const piece = scoreMapsSql('rewards', blocks, 0.5, 4, true, duckdb, bins);
      await expectSql(piece, whole.text.replace(`WHERE ${updates}))`, `WHERE ${updates}${where}))`));
      rows.push(await session.columns(piece.text));
    }
    const expected = await session.columns(whole.text);
    expect(expected.key.length).toBe(3);
    for (const column of Object.keys(expected))
      expect(rows.flatMap((r) => r[column])).toEqual(expected[column]);
  });

  it('block durations', async () => {
    const durations =
      'WITH timed AS (SELECT "ord", TRY_CAST("block" AS DOUBLE) AS "b", TRY_CAST("_timestamp" AS DOUBLE) AS "t" FROM "events" WHERE isfinite(TRY_CAST("block" AS DOUBLE)) AND isfinite(TRY_CAST("_timestamp" AS DOUBLE))), starts AS (SELECT "ord", "b", "t", lag("b") OVER (ORDER BY "ord") AS "previous" FROM timed), runs AS (SELECT "ord", "b", "t", lead("b") OVER (ORDER BY "ord") AS "next_block", lead("t") OVER (ORDER BY "ord") AS "next_t" FROM starts WHERE "previous" IS NULL OR "previous" <> "b") SELECT "ord", "b" AS "x", ("next_t" - "t") / ("next_block" - "b") AS "d" FROM runs WHERE "next_block" > "b" AND "next_t" > "t"';
    await expectSql(blockDurationRowsSql(), durations);
    expect(await session.columns(blockDurationRowsSql().text)).toEqual({
      ord: [0n, 1n],
      x: [100, 101],
      d: [12, 9],
    });
    await expectSql(
      blockRangeSql(),
      'SELECT min("b") AS "min", max("b") AS "max", coalesce(bool_and("b" = round("b")), false) AS "integer" FROM (SELECT TRY_CAST("block" AS DOUBLE) AS "b" FROM "events") WHERE isfinite("b")',
    );
    await expectSql(
      blockDurationsSql(spec, 70, 80),
      `SELECT ${BIN} AS "bin", ${mean('"x"', 35)} AS x_mean, CAST(count(*) AS DOUBLE) AS n, ${mean('"d"', 40)} AS mean, min("d") AS lo, max("d") AS hi, quantile_cont("d", [0.1, 0.9]) AS band, arg_max("d", "ord") AS "last" FROM (${durations}) GROUP BY "bin" ORDER BY "bin"`,
    );
  });
});

describe('analyses', () => {
  const byX: Interval = { axis: 'x', width: 5, expression: ident('x'), label: '5 block' };
  const byTime: Interval = { axis: 'time', width: 600, expression: ident('_timestamp'), label: '10m' };
  const filters = eventFilters({ task: ["it's", 'Store'], xRange: { min: -1, max: 2.5 } });
  const FILTERS = `("task" IN ('it''s', 'Store')) AND ("x" >= (-1)) AND ("x" <= 2.5)`;
  const NON_EMPTY = `("completions" IS NOT NULL AND "completions" <> '')`;
  const WITH_TIME = `(SELECT "u".*, "r"."_timestamp" FROM "uid_events" "u" JOIN "rows" "r" USING ("file_id", "rec"))`;

  it('throughput and intervals', async () => {
    await expectSql(
      intervalRangeSql(byTime.expression),
      'SELECT min("_timestamp") AS lo, max("_timestamp") AS hi, bool_and("_timestamp" = round("_timestamp")) AS "integer" FROM "events" WHERE (isfinite("_timestamp"))',
    );
    expect(bucketExpression(byX).text).toBe('CAST(FLOOR("x" / 5) AS BIGINT)');
    await expectSql(
      bucketCountsSql(ident('events'), byTime, filters),
      `SELECT CAST(CAST(FLOOR("_timestamp" / 600) AS BIGINT) AS DOUBLE) AS bucket, CAST(count(*) AS DOUBLE) AS n FROM "events" WHERE ${FILTERS} AND (isfinite("_timestamp")) GROUP BY bucket ORDER BY bucket`,
    );
    expect(uidEventsWithTimeSql().text).toBe(WITH_TIME);
    await expectSql(
      bucketCountsSql(uidEventsWithTimeSql(), byTime, []),
      `SELECT CAST(CAST(FLOOR("_timestamp" / 600) AS BIGINT) AS DOUBLE) AS bucket, CAST(count(*) AS DOUBLE) AS n FROM ${WITH_TIME} WHERE (isfinite("_timestamp")) GROUP BY bucket ORDER BY bucket`,
    );
    await expectSql(
      unplacedEventsSql(byX, filters),
      `SELECT CAST(count(*) AS DOUBLE) AS n FROM "events" WHERE ${FILTERS} AND (NOT coalesce(isfinite("x"), false))`,
    );
    await expectSql(
      tasksSql(),
      'SELECT DISTINCT "task" FROM "events" WHERE ("task" IS NOT NULL) ORDER BY "task"',
    );
    await expectSql(regexCheckSql("(?i)^it's"), `SELECT regexp_matches('', '(?i)^it''s')`);
  });

  it('leaderboard', async () => {
    await expectSql(
      leaderboardSql({
        by: 'uid',
        metric: ident('Rewards~2'),
        scale: 90,
        filters: [],
        sort: 'mean',
        top: 20,
      }),
      `SELECT *, CAST(count(*) OVER () AS DOUBLE) AS "total" FROM (SELECT "uid" AS "key", CAST(count(*) AS DOUBLE) AS "calls", CAST(count(*) FILTER (WHERE "Rewards~2" IS NOT NULL AND isfinite("Rewards~2")) AS DOUBLE) AS "n", ${mean('"Rewards~2"', 45)} AS "mean", max(CAST("Rewards~2" AS DOUBLE)) FILTER (WHERE isfinite("Rewards~2")) AS "max" FROM "uid_events" GROUP BY "uid") ORDER BY "mean" DESC NULLS LAST, "key" LIMIT 20`,
    );
    await expectSql(
      leaderboardSql({
        by: 'completion',
        metric: ident('completion_times'),
        scale: 80,
        filters: [nonEmptyCompletion()],
        sort: 'calls',
        top: 0,
      }),
      `SELECT *, CAST(count(*) OVER () AS DOUBLE) AS "total" FROM (SELECT "completions" AS "key", CAST(count(*) AS DOUBLE) AS "calls", CAST(count(DISTINCT "uid") AS DOUBLE) AS "uids", CAST(count(*) FILTER (WHERE "completion_times" IS NOT NULL AND isfinite("completion_times")) AS DOUBLE) AS "n", ${mean('"completion_times"', 40)} AS "mean", max(CAST("completion_times" AS DOUBLE)) FILTER (WHERE isfinite("completion_times")) AS "max" FROM "uid_events" WHERE ${NON_EMPTY} GROUP BY "completions") ORDER BY "calls" DESC NULLS LAST, "key"`,
    );
  });

  it('success rate', async () => {
    const which =
      'CASE WHEN "successful" IS NOT NULL THEN 0 WHEN "completions" IS NOT NULL THEN 1 WHEN "rewards" IS NOT NULL THEN 2 END';
    const ok = `CASE WHEN "successful" IS NOT NULL THEN "successful" <> 0 WHEN "completions" IS NOT NULL THEN "completions" <> '' WHEN "rewards" IS NOT NULL THEN coalesce(isfinite("rewards") AND "rewards" <> 0, false) END`;
    await expectSql(
      successRateSql(SUCCESS_DEFINITIONS, filters),
      `SELECT "uid", CAST(count(*) AS DOUBLE) AS calls, CAST(count(*) FILTER (WHERE ok) AS DOUBLE) AS successes, count(*) FILTER (WHERE ok) / count(*) AS rate FROM (SELECT "uid", ${which} AS def, ${ok} AS ok FROM "uid_events" WHERE ${FILTERS} AND (${which} IS NOT NULL)) GROUP BY "uid" ORDER BY "uid"`,
    );
    const two = SUCCESS_DEFINITIONS.slice(1);
    await expectSql(
      successDefinitionsSql(two, []),
      `SELECT def, CAST(count(*) AS DOUBLE) AS n FROM (SELECT "uid", CASE WHEN "completions" IS NOT NULL THEN 0 WHEN "rewards" IS NOT NULL THEN 1 END AS def, CASE WHEN "completions" IS NOT NULL THEN "completions" <> '' WHEN "rewards" IS NOT NULL THEN coalesce(isfinite("rewards") AND "rewards" <> 0, false) END AS ok FROM "uid_events" WHERE (CASE WHEN "completions" IS NOT NULL THEN 0 WHEN "rewards" IS NOT NULL THEN 1 END IS NOT NULL)) GROUP BY def ORDER BY def`,
    );
  });

  it('completion diversity, rates and similarity', async () => {
    await expectSql(
      completionDiversitySql([]),
      `SELECT "uid", CAST(count(*) AS DOUBLE) AS n, CAST(count(DISTINCT "completions") AS DOUBLE) AS "unique", count(DISTINCT "completions") / count(*) AS diversity FROM "uid_events" WHERE ${NON_EMPTY} GROUP BY "uid" ORDER BY "uid"`,
    );
    await expectSql(
      frequentCompletionsSql(ident('uid_events'), [nonEmptyCompletion()], 4),
      `SELECT "completions" AS "text" FROM "uid_events" WHERE ${NON_EMPTY} GROUP BY "completions" ORDER BY count(*) DESC, "completions" LIMIT 4`,
    );
    const completions = ident('completions');
    await expectSql(
      completionRatesSql({
        relation: uidEventsWithTimeSql(),
        interval: byTime,
        filters: [nonEmptyCompletion()],
        series: [sql`${completions} = ${lit("it's")}`, sql`regexp_matches(${completions}, ${lit('^b')})`],
        metric: ident('Rewards~2'),
        scale: 90,
      }),
      `SELECT CAST(CAST(FLOOR("_timestamp" / 600) AS BIGINT) AS DOUBLE) AS bucket, CASE WHEN "completions" = 'it''s' THEN 0 WHEN regexp_matches("completions", '^b') THEN 1 END AS s, CAST(count(*) AS DOUBLE) AS n, ${mean('"Rewards~2"', 45)} AS mean FROM ${WITH_TIME} WHERE ${NON_EMPTY} GROUP BY bucket, s ORDER BY bucket, s NULLS LAST`,
    );
    const frequent = `SELECT "completions" AS "text" FROM "uid_events" WHERE ${NON_EMPTY} GROUP BY "completions" ORDER BY count(*) DESC, "completions" LIMIT 10`;
    const sent = (side: string) =>
      `(SELECT "uid" AS "uid_${side}", "text" FROM (SELECT DISTINCT "uid", "text" FROM (SELECT "uid", "completions" AS "text" FROM "uid_events" WHERE ${NON_EMPTY}) WHERE "text" IN (${frequent})))`;
    await expectSql(
      completionSimilaritySql({ filters: [], pool: 10, top: 100 }),
      `SELECT "uid_a", "uid_b", shared, CAST(count(*) OVER () AS DOUBLE) AS total FROM (SELECT "uid_a", "uid_b", CAST(count(*) AS DOUBLE) AS shared FROM ${sent('a')} JOIN ${sent('b')} USING ("text") WHERE "uid_a" < "uid_b" GROUP BY "uid_a", "uid_b") ORDER BY shared DESC, "uid_a", "uid_b" LIMIT 100`,
    );
  });

  it('weights over time', async () => {
    const relation = weightRowsSql(true);
    expect(relation.text).toBe(
      '(SELECT "i"."kind", "i"."uid", "i"."value", "e"."x", "e"."ord", "e"."task", "e"."_timestamp" FROM "uid_indexed" "i" JOIN "events" "e" USING ("file_id", "rec"))',
    );
    expect(weightRowsSql(false).text).toContain('CAST(NULL AS DOUBLE) AS "_timestamp" FROM');
    await expectSql(
      weightVectorsSql(relation, filters),
      `SELECT "kind", CAST(count(DISTINCT "ord") AS DOUBLE) AS vectors FROM ${relation.text} WHERE ${FILTERS} AND ("kind" IN ('set_weights', 'neuron_weights')) GROUP BY "kind" ORDER BY vectors DESC, "kind"`,
    );
    const scope = [sql`${ident('kind')} = ${lit('set_weights')}`];
    await expectSql(
      topWeightUidsSql(relation, scope, 90, 3),
      `SELECT "uid" FROM ${relation.text} WHERE ("kind" = 'set_weights') AND (isfinite("value")) GROUP BY "uid" ORDER BY ${mean('"value"', 45)} DESC, "uid" LIMIT 3`,
    );
    await expectSql(
      weightValuesSql(relation, scope),
      `SELECT CAST("ord" AS DOUBLE) AS vector, "x", "uid", "value" FROM ${relation.text} WHERE ("kind" = 'set_weights') ORDER BY "ord", "uid"`,
    );
    await expectSql(
      weightIntervalsSql(relation, scope, byX),
      `SELECT CAST(CAST(FLOOR("x" / 5) AS BIGINT) AS DOUBLE) AS bucket, "uid", arg_max("value", "ord") AS "last" FROM ${relation.text} WHERE ("kind" = 'set_weights') AND (isfinite("x")) GROUP BY bucket, "uid" ORDER BY bucket, "uid"`,
    );
    expect(await session.all(weightValuesSql(relation, scope).text)).toEqual([
      { vector: 1, x: 101, uid: 0, value: 0.25 },
      { vector: 1, x: 101, uid: 1, value: 0.75 },
    ]);
  });
});
