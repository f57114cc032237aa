import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Run } from '../src/engine/run.js';
import { EventLog } from '../src/log/index.js';
import { tempDir } from './helpers/temp.js';

describe('runlens reads a rotated, gzipped EventLog set back in order', () => {
  it('every event once, ids 0..N-1 in order, across live, plain and .gz members', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.json');
    const log = new EventLog(file, { rotate: { maxBytes: 8_000, keep: 50, gzip: true } });
    const total = 2000;
    for (let id = 0; id < total; id++)
      log.write({ id, block: 1000 + id, loss: id % 7 === 0 ? NaN : id / 10 });
    await log.close();
    const names = fs.readdirSync(dir);
    expect(names.filter((n) => n.endsWith('.gz')).length).toBeGreaterThan(3);
    // A member caught mid-compression exists twice; runlens must read it once.
    const plain = names.find((n) => /\.\d+\.gz$/.test(n))!;
    const zlib = await import('node:zlib');
    fs.writeFileSync(
      path.join(dir, plain.slice(0, -3)),
      zlib.gunzipSync(fs.readFileSync(path.join(dir, plain))),
    );

    const run = await Run.open(dir);
    try {
      const ids = (await run.session.all<{ id: number }>('SELECT id FROM events ORDER BY ord')).map(
        (r) => r.id,
      );
      expect(ids).toEqual(Array.from({ length: total }, (_, i) => i));
      expect(run.x.column).toBe('block');
      expect(run.location.ignored.map((f) => f.name)).toEqual([plain]);
      const nan = await run.session.one<{ n: number }>(
        'SELECT CAST(count(*) AS INTEGER) AS n FROM events WHERE isnan(loss)',
      );
      expect(nan?.n).toBe(Math.ceil(total / 7));
    } finally {
      run.close();
    }
  });
});
