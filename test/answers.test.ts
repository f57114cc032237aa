import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWERS_DIR, Answers, columnsOverX, decodeAnswer, encodeAnswer } from '../src/engine/answers.js';
import { binnedStats } from '../src/engine/binned-stats.js';
import { analyzeRun } from '../src/analysis/analyses.js';
import { leaderboard } from '../src/report/leaderboard.js';
import { chooseMetrics } from '../src/report/metric-choice.js';
import { movingAverageScores } from '../src/engine/moving-average-scores.js';
import { reservoirSample } from '../src/engine/reservoir.js';
import { Run } from '../src/engine/run.js';
import { uidCount } from '../src/engine/uid-count.js';
import { uidPerformance } from '../src/engine/uid-performance.js';
import { tempDir } from './helpers/temp.js';

describe('answers kept in the index', () => {
  let keep: number;
  beforeAll(() => {
    keep = Answers.keepSeconds;
    Answers.keepSeconds = 0; // every answer kept, however fast
  });
  afterAll(() => {
    Answers.keepSeconds = keep;
  });

  it('decode to the values encoded, whatever JSON lacks', () => {
    const value = [
      {
        n: NaN,
        o: [Infinity, -Infinity, -0, 0, 1.1, 5e-324, Number.MAX_VALUE],
        b: 12345678901234567890n,
        d: new Date(1_700_000_000_123),
        u: new Uint8Array([0, 255, 7]),
        s: 'a\u0000"b',
        nested: { list: [null, true, false, { n: '1' }] },
      },
    ];
    const back = decodeAnswer(encodeAnswer(value)!) as typeof value;
    expect(back).toEqual(value);
    expect(Object.is((back[0].o as number[])[2], -0)).toBe(true);
    expect(Number.isNaN(back[0].n)).toBe(true);
    expect(typeof back[0].b).toBe('bigint');
    // Not a plain value: not kept (the query runs again next time).
    expect(encodeAnswer([new Map()])).toBeUndefined();
  });

  describe('in a cached index', () => {
    const event = (block: number, extra: Record<string, unknown> = {}): string =>
      `${JSON.stringify({ task_name: block % 2 ? 'Store' : 'Retrieve', block, uids: [1, 2, 3], rewards: [block, block / 2, 1], successful: [1, 0, 1], completion_times: [block / 10, 2, 3], ...extra })}\n`;

    /** The answers of one look (binned rewards, per-uid performance, summary), and how many the index keeps. */
    async function look(log: string, cache: string | false, x?: string) {
      const run = await Run.open(log, { cache, x });
      try {
        const rewards = await binnedStats(run, {
          columns: ['rewards'],
          table: 'uid_events',
          maxBins: 8,
          groupBy: 'uid',
        });
        const performance = await uidPerformance(run);
        const summary = await run.summary();
        const kept = cache
          ? ((
              await run.session.one<{ n: number }>(
                'SELECT CAST(count(*) AS DOUBLE) AS n FROM runlens_answers',
              )
            )?.n ?? 0)
          : 0;
        return { answers: { rewards, performance, summary }, kept };
      } finally {
        run.close();
      }
    }

    it('answer a second look as the first; an append, another x axis or a rewrite is computed again', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const log = path.join(dir, 'events.json');
      fs.writeFileSync(log, Array.from({ length: 40 }, (_, i) => event(i)).join(''));
      const first = await look(log, cache);
      expect(first.kept).toBeGreaterThan(3);
      const second = await look(log, cache);
      // The same answers, read from the index: nothing new was kept.
      expect(second.kept).toBe(first.kept);
      expect(second.answers).toEqual(first.answers);

      // Rows appended: every answer is computed again, and equals a temporary index's.
      fs.appendFileSync(log, Array.from({ length: 10 }, (_, i) => event(100 + i)).join(''));
      const appended = (await look(log, cache)).answers;
      expect(appended).toEqual((await look(log, false)).answers);
      expect(appended.summary.rows).toBe(50);
      expect(appended).not.toEqual(first.answers);

      // Another x (the views change, the rows do not): computed over the new views.
      const byOrdinal = (await look(log, cache, 'ordinal')).answers;
      expect(byOrdinal).toEqual((await look(log, false, 'ordinal')).answers);
      expect(byOrdinal.rewards).not.toEqual(appended.rewards);

      // Rewritten with other values, the same size and lines: read again and computed again.
      const rewritten = fs
        .readFileSync(log, 'utf8')
        .replaceAll('"successful":[1,0,1]', '"successful":[0,1,1]');
      fs.writeFileSync(log, rewritten);
      fs.utimesSync(log, new Date(), new Date(Date.now() + 5000));
      const after = (await look(log, cache)).answers;
      expect(after).toEqual((await look(log, false)).answers);
      expect(after.performance).not.toEqual(appended.performance);
    });

    it('only the present state’s answers stay in the index', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const log = path.join(dir, 'events.json');
      fs.writeFileSync(log, Array.from({ length: 20 }, (_, i) => event(i)).join(''));
      const first = await look(log, cache);
      fs.appendFileSync(log, event(50));
      const second = await look(log, cache);
      // The same queries over the new state: as many answers as before, none of the old ones.
      expect(second.kept).toBe(first.kept);
    });

    it('keep a large answer gzipped in a file beside the index, give it back exactly, and remove it once no row names it', async () => {
      const dir = tempDir();
      const log = path.join(dir, 'events.json');
      fs.writeFileSync(log, Array.from({ length: 5 }, (_, i) => event(i)).join(''));
      const query = 'SELECT range AS i, range / 7 AS f, CAST(range AS VARCHAR) AS s FROM range(30000)';
      const cache = tempDir();
      const ask = async () => {
        const run = await Run.open(log, { cache });
        try {
          const value = await run.answers.columns(query);
          const kept = await run.session.all<{ value: string }>('SELECT value FROM runlens_answers');
          const files = path.join(run.cacheDir!, ANSWERS_DIR);
          return { value, kept: kept.map((k) => k.value), files, names: fs.readdirSync(files) };
        } finally {
          run.close();
        }
      };
      const sweep = Answers.sweepSeconds;
      Answers.sweepSeconds = 0;
      try {
        const first = await ask();
        const inFile = first.kept.filter((k) => k.startsWith('file:'));
        expect(inFile.length).toBe(1);
        expect(first.names).toEqual([inFile[0].slice('file:'.length)]);
        // 30 000 rows of three columns: about 1 MB of JSON, far less gzipped; the row holds a name.
        expect(encodeAnswer(first.value)!.length).toBeGreaterThan(900_000);
        expect(fs.statSync(path.join(first.files, first.names[0])).size).toBeLessThan(300_000);
        expect(Math.max(...first.kept.map((k) => k.length))).toBeLessThan(64 * 1024);
        const second = await ask();
        expect(second.kept).toEqual(first.kept);
        expect(second.value).toEqual(first.value);
        expect(second.value.f[29999]).toBe(29999 / 7);

        // A file gone: the answer is computed again (and kept again), not an error.
        fs.rmSync(path.join(first.files, first.names[0]));
        const third = await ask();
        expect(third.value).toEqual(first.value);

        // The log grows: a new state; the old answer's row goes when the new one is kept, and
        // with it its file (the new answer, another value, has a file of its own).
        fs.appendFileSync(log, event(5));
        const run = await Run.open(log, { cache });
        try {
          await run.answers.columns(`${query} WHERE range < 29999`);
          const names = fs.readdirSync(first.files);
          expect(names).toHaveLength(1);
          expect(names).not.toEqual(first.names);
        } finally {
          run.close();
        }
      } finally {
        Answers.sweepSeconds = sweep;
      }
    });
  });

  describe('kept per range of x', () => {
    /** An event at `block` rewarding 6 of 20 uids (deterministic values). */
    const event = (block: number): string => {
      const uids = Array.from({ length: 6 }, (_, i) => (block * 7 + i * 3) % 20);
      const rewards = uids.map((u) => ((block * 31 + u * 17) % 101) / 100);
      const latency = ((block * 13) % 97) / 10;
      const completion_times = uids.map((u) => ((block * 7 + u * 5) % 50) / 10);
      return `${JSON.stringify({ task_name: 'Store', block, latency, uids, rewards, completion_times })}\n`;
    };
    const events = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => event(from + i)).join('');

    type Kept = { key: string; state: string; seq: number };
    async function keptAnswers(run: Run): Promise<Kept[]> {
      return run.session.all<Kept>(
        'SELECT key, state, CAST(seq AS DOUBLE) AS seq FROM runlens_range_answers ORDER BY seq',
      );
    }

    /** The replayed scores over ranges of bins (a few hundred per-uid rows each), and what is kept. */
    async function scores(log: string, cache: string | false) {
      const run = await Run.open(log, { cache });
      try {
        const matrix = await movingAverageScores(run, { maxBins: 40, pieceRows: 300 });
        return { matrix, kept: cache ? await keptAnswers(run) : [] };
      } finally {
        run.close();
      }
    }

    it('replay after an append only the ranges of bins it reached: the matrix equals a fresh index’s', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const log = path.join(dir, 'events.json');
      fs.writeFileSync(log, events(1000, 1390));
      const first = await scores(log, cache);
      // 2340 per-uid rows on 39 bins of 10 blocks, 300 a query: ranges of 4 bins, two queries each.
      expect(first.matrix!.spec).toEqual({ x0: 1000, width: 10, count: 39 });
      expect(first.kept.length).toBe(2 * 10);
      const again = await scores(log, cache);
      expect(again.kept).toEqual(first.kept);
      expect(again.matrix).toEqual(first.matrix);

      fs.appendFileSync(log, events(1390, 1394));
      const appended = await scores(log, cache);
      expect(appended.matrix!.spec).toEqual({ x0: 1000, width: 10, count: 40 });
      expect(appended.matrix).toEqual((await scores(log, false)).matrix);
      expect(appended.matrix).not.toEqual(first.matrix);
      // Only the last range (bins 36–39, x from 1350) was computed again: its two answers are new.
      const last = Math.max(...first.kept.map((k) => k.seq));
      expect(appended.kept.filter((k) => k.seq > last).length).toBe(2);
      expect(appended.kept.filter((k) => k.seq <= last).length).toBe(18);
    });

    it('draw a sample range by range that is the one query’s sample, before and after an append', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const log = path.join(dir, 'events.json');
      fs.writeFileSync(log, events(1000, 1390));
      /** A sample of 50 per-uid rows drawn by ranges of 300 rows (cached) and in one query (not). */
      async function sample(cached: string | false) {
        const run = await Run.open(log, { cache: cached });
        try {
          const drawn = await reservoirSample(run, {
            table: 'uid_events',
            columns: ['x', 'uid', 'rewards'],
            where: 'x IS NOT NULL AND isfinite(rewards)',
            size: 50,
            seed: 3,
            overX: true,
            pieceRows: 300,
          });
          return { drawn, kept: cached ? await keptAnswers(run) : [] };
        } finally {
          run.close();
        }
      }
      const first = await sample(cache);
      const single = await sample(false);
      expect(first.kept.length).toBeGreaterThan(10);
      expect(first.drawn).toEqual(single.drawn);
      expect(first.drawn.size).toBe(50);
      expect(first.drawn.population).toBe(2340);
      fs.appendFileSync(log, events(1390, 1394));
      const appended = await sample(cache);
      expect(appended.drawn).toEqual((await sample(false)).drawn);
      expect(appended.drawn.population).toBe(2364);
      // Only the last range's two answers (population and sample) were drawn again.
      const last = Math.max(...first.kept.map((k) => k.seq));
      expect(appended.kept.filter((k) => k.seq > last).length).toBe(2);
    });

    it('split binned statistics into ranges of whole bins: one query’s numbers, also after an append to an earlier file', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const [a, b] = [path.join(dir, 'a.jsonl'), path.join(dir, 'b.jsonl')];
      fs.writeFileSync(a, events(1000, 1200));
      // uid 100 only in the second file: its series sorts among the others ('10' < '100' < '11').
      fs.writeFileSync(
        b,
        events(1200, 1390)
          .replaceAll('"uids":[', '"uids":[100,')
          .replaceAll('"rewards":[', '"rewards":[0.5,'),
      );
      /** Per-uid and per-event statistics read by ranges (cached) or in one query each (not). */
      async function stats(cached: string | false) {
        const run = await Run.open(dir, { cache: cached });
        try {
          const options = { maxBins: 40, exactQuantileRows: 100 };
          const perUid = await binnedStats(run, {
            ...options,
            table: 'uid_events',
            columns: ['rewards'],
            groupBy: 'uid',
            pieceRows: 300,
          });
          const perEvent = await binnedStats(run, {
            ...options,
            columns: ['latency'],
            where: "task = 'Store'",
            pieceRows: 50,
          });
          return { perUid, perEvent, kept: cached ? await keptAnswers(run) : [] };
        } finally {
          run.close();
        }
      }
      const first = await stats(cache);
      const single = await stats(false);
      expect(first.perUid.quantiles).toBe('approximate');
      expect(first.perUid.series.map((s) => s.group).slice(2, 5)).toEqual(['10', '100', '11']);
      expect(first.perUid).toEqual(single.perUid);
      expect(first.perEvent).toEqual(single.perEvent);
      expect(first.perEvent.series[0].count.reduce((s, n) => s + n, 0)).toBe(390);
      expect(first.perUid.series.length).toBe(21);
      // Range scans and series, each over several ranges.
      expect(first.kept.length).toBeGreaterThan(20);
      expect((await stats(cache)).kept).toEqual(first.kept);

      // Rows appended to the first file: every row of the second moves in row order, none in x.
      fs.appendFileSync(a, events(1390, 1394));
      const appended = await stats(cache);
      const fresh = await stats(false);
      expect(appended.perUid).toEqual(fresh.perUid);
      expect(appended.perEvent).toEqual(fresh.perEvent);
      expect(appended.perEvent).not.toEqual(first.perEvent);
      // Only the last range of each range scan and of each series was read again.
      const last = Math.max(...first.kept.map((k) => k.seq));
      expect(appended.kept.filter((k) => k.seq > last).length).toBe(4);
    });

    it('count metrics and rank the leaderboards (report and analyze) range by range: one query’s answer, also after an append', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const a = path.join(dir, 'a.jsonl');
      fs.writeFileSync(a, events(1000, 1200));
      fs.writeFileSync(path.join(dir, 'b.jsonl'), events(1200, 1390));
      // Events without a block: rows without x, in no range.
      fs.writeFileSync(path.join(dir, 'c.jsonl'), events(1, 4).replace(/"block":\d+,/g, ''));
      async function look(cached: string | false) {
        const run = await Run.open(dir, { cache: cached });
        try {
          expect(run.x.column).toBe('block');
          const board = await leaderboard(run, 5000, 300);
          const choice = await chooseMetrics(run, { max: 48, pieceRows: 300 });
          // analyze's leaderboard: the same per-key means, with a max, a filter and a limit.
          const analysis = await analyzeRun(run, 'leaderboard', { top: 0, pieceRows: 300 });
          const filtered = await analyzeRun(run, 'leaderboard', {
            metric: 'completion_times',
            sort: 'max',
            top: 5,
            xRange: { min: 1100 },
            pieceRows: 300,
          });
          return { board, choice, analysis, filtered, kept: cached ? await keptAnswers(run) : [] };
        } finally {
          run.close();
        }
      }
      const first = await look(cache);
      const single = await look(false);
      expect(first.board).toEqual(single.board);
      expect(first.choice).toEqual(single.choice);
      expect(first.analysis).toEqual(single.analysis);
      expect(first.filtered).toEqual(single.filtered);
      expect(first.filtered.rows.length).toBe(5);
      expect(first.filtered.total).toBe(20);
      // One definition: analyze's means are the report's, uid by uid, in the same order.
      expect(first.analysis.rows.map((r) => [r.uid, r.calls, r.mean])).toEqual(
        first.board!.rows.map((r) => [r.uid, r.count, r.meanReward]),
      );
      expect(first.board!.rows.length).toBe(20);
      expect(first.board!.rows.reduce((n, r) => n + r.count, 0)).toBe(393 * 6);
      expect(first.choice.metrics.find((m) => m.column === 'completion_times')?.rows).toBe(393 * 6);
      // Two range queries of the board and one of the counts per range of uid rows, more than one range.
      expect(first.kept.length).toBeGreaterThan(3 * 2);

      fs.appendFileSync(a, events(1390, 1394));
      const appended = await look(cache);
      const fresh = await look(false);
      expect(appended.board).toEqual(fresh.board);
      expect(appended.analysis).toEqual(fresh.analysis);
      expect(appended.filtered).toEqual(fresh.filtered);
      expect(appended.board).not.toEqual(first.board);
      expect(appended.choice.metrics.find((m) => m.column === 'completion_times')?.rows).toBe(397 * 6);
      // The last range of the report's board and of both analyses (magnitudes, sums each), of the
      // per-uid and of the per-event counts.
      const last = Math.max(...first.kept.map((k) => k.seq));
      expect(appended.kept.filter((k) => k.seq > last).length).toBe(8);
    });

    it('take the success rate as uid performance does, range by range as in one query', async () => {
      const dir = tempDir();
      const cache = tempDir();
      // Flags as FileTAO logs them; some uids have none set, one has no flag at all.
      const flagged = (block: number) => {
        const uids = Array.from({ length: 6 }, (_, i) => (block * 7 + i * 3) % 20);
        const successful = uids.map((u) =>
          u === 19 ? null : (block * 13 + u * 7) % (u % 4 === 0 ? 101 : 3) === 0,
        );
        const rewards = uids.map((u) => ((block * 31 + u * 17) % 101) / 100);
        return `${JSON.stringify({ task_name: 'Store', block, uids, rewards, successful })}\n`;
      };
      const lines = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => flagged(from + i)).join('');
      fs.writeFileSync(path.join(dir, 'a.jsonl'), lines(1000, 1200));
      fs.writeFileSync(path.join(dir, 'b.jsonl'), lines(1200, 1390));
      async function look(cached: string | false) {
        const run = await Run.open(dir, { cache: cached });
        try {
          return { board: await leaderboard(run, 5000, 300), performance: await uidPerformance(run) };
        } finally {
          run.close();
        }
      }
      const split = await look(cache);
      const single = await look(false);
      expect(split.board).toEqual(single.board);
      const rates = new Map(split.board!.rows.map((r) => [r.uid, r.successRate]));
      expect(rates.size).toBe(20);
      expect(rates.get(19)).toBeNull();
      expect(new Set(rates.values()).size).toBeGreaterThan(5);
      // One definition: the report's rate is uid performance's, to the bit (NaN where none).
      split.performance!.uid.forEach((uid, i) =>
        expect(rates.get(uid) ?? NaN, `uid ${uid}`).toBe(split.performance!.successRate[i]),
      );
    });

    it('count the uids range by range: one query’s count, also after an append', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const a = path.join(dir, 'a.jsonl');
      fs.writeFileSync(a, events(1000, 1200));
      fs.writeFileSync(path.join(dir, 'b.jsonl'), events(1200, 1390));
      // Weight vectors by uid (uids 0..length-1), one without a block: in no range.
      const weights = (length: number, block?: number) =>
        `${JSON.stringify({ task_name: 'SetWeights', ...(block === undefined ? {} : { block }), set_weights: Array.from({ length }, (_, i) => i / length) })}\n`;
      fs.writeFileSync(path.join(dir, 'w.jsonl'), weights(24, 1100) + weights(30) + weights(26, 1300));
      async function look(cached: string | false) {
        const run = await Run.open(dir, { cache: cached });
        try {
          return { count: await uidCount(run, 300), kept: cached ? await keptAnswers(run) : [] };
        } finally {
          run.close();
        }
      }
      const first = await look(cache);
      // 20 uids of the rows, up to 29 of the vectors (the one without a block among them).
      expect(first.count).toEqual({ uids: 30, indexedValues: 24 + 30 + 26 });
      expect(first.count).toEqual((await look(false)).count);
      expect(first.kept.length).toBeGreaterThan(2);

      // A uid no row had before, in events appended to the earlier file (in the last range of x).
      // Their chunk has no weight vectors, the first has: its rows appear in the views through
      // other branches, which must leave the ranges it has no rows in as they were.
      fs.appendFileSync(a, events(1390, 1392).replace(/"uids":\[\d+/g, '"uids":[40'));
      const appended = await look(cache);
      expect(appended.count).toEqual({ uids: 31, indexedValues: 80 });
      expect(appended.count).toEqual((await look(false)).count);
      const last = Math.max(...first.kept.map((k) => k.seq));
      expect(appended.kept.filter((k) => k.seq > last).length).toBe(1);
    });

    it('hold while no row with x in the range is added or removed, and only then', async () => {
      const dir = tempDir();
      const cache = tempDir();
      const log = path.join(dir, 'a.jsonl');
      const other = path.join(dir, 'b.jsonl');
      fs.writeFileSync(log, events(0, 100));
      fs.writeFileSync(other, events(500, 520));
      const span = { from: 40, to: 60 };
      const query = `SELECT CAST(count(*) AS DOUBLE) AS n, CAST(sum(round(rewards * 100)) AS DOUBLE) AS s FROM uid_events WHERE x >= 40 AND x < 60`;
      /** The range's answer, whether it was computed this time, and the truth (a temporary index). */
      async function look() {
        // x is block whatever goes back (a look that chose another x would keep no range answer).
        const run = await Run.open(dir, { cache, x: 'block' });
        expect(run.x.column).toBe('block');
        const before = await keptAnswers(run);
        const value = await columnsOverX(run.answers, query, span);
        const after = await keptAnswers(run);
        run.close();
        const fresh = await Run.open(dir, { cache: false, x: 'block' });
        const truth = await fresh.session.columns(query);
        fresh.close();
        expect(value).toEqual(truth);
        return { value, computed: JSON.stringify(after) !== JSON.stringify(before) };
      }
      expect((await look()).computed).toBe(true);
      expect((await look()).computed).toBe(false);
      // Rows past the range (appended, in a new file, a file gone): the answer holds.
      fs.appendFileSync(log, events(100, 130));
      expect((await look()).computed).toBe(false);
      fs.writeFileSync(path.join(dir, 'c.jsonl'), events(200, 210));
      expect((await look()).computed).toBe(false);
      fs.rmSync(other);
      expect((await look()).computed).toBe(false);
      // Rows in the range: appended to a file, in a new file, a file with rows in it gone or rewritten.
      fs.appendFileSync(log, events(55, 56));
      const added = await look();
      expect(added.computed).toBe(true);
      fs.writeFileSync(path.join(dir, 'd.jsonl'), events(41, 43));
      const inNewFile = await look();
      expect(inNewFile.computed).toBe(true);
      expect(inNewFile.value.n[0]).toBe(Number(added.value.n[0]) + 12);
      fs.rmSync(path.join(dir, 'd.jsonl'));
      const gone = await look();
      expect(gone.computed).toBe(true);
      expect(gone.value).toEqual(added.value);
      fs.writeFileSync(log, events(0, 130).replaceAll('"Store"', '"Retrieve"'));
      expect((await look()).computed).toBe(true);
    });

    it('are not kept where x is the row ordinal (an append to one file moves the x of the next)', async () => {
      const dir = tempDir();
      const cache = tempDir();
      fs.writeFileSync(path.join(dir, 'a.jsonl'), events(0, 50).replaceAll('"block"', '"height"'));
      const run = await Run.open(dir, { cache, x: 'ordinal' });
      try {
        const value = await columnsOverX(run.answers, 'SELECT count(*) AS n FROM events WHERE x < 10', {
          from: -Infinity,
          to: 10,
        });
        expect(value.n).toEqual([10n]);
        expect(await keptAnswers(run)).toEqual([]);
      } finally {
        run.close();
      }
    });
  });
});
