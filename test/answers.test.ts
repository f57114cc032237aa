import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Answers, decodeAnswer, encodeAnswer } from '../src/engine/answers.js';
import { binnedStats } from '../src/engine/binned-stats.js';
import { Run } from '../src/engine/run.js';
import { uidPerformance } from '../src/engine/uid-performance.js';
import { tempDir } from './helpers/temp.js';

describe('answers kept in the index', () => {
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
    let keep: number;
    beforeAll(() => {
      keep = Answers.keepSeconds;
      Answers.keepSeconds = 0; // every answer kept, however fast
    });
    afterAll(() => {
      Answers.keepSeconds = keep;
    });

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
  });
});
