import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { Run } from '../../src/engine/run.js';
import { FORMATS, tempDir } from '../helpers/temp.js';

describe('scratch', () => {
  for (const sample of ['filetao/events.json', 'openvalidators/completions.log', 'openvalidators/history.jsonl', 'rl-experiments/v4/20250726_130714']) {
    it(sample, async () => {
      const cache = tempDir();
      const run = await Run.open(path.join(FORMATS, sample), { cache });
      try {
        console.log(sample, run.profile, run.x, run.taskColumn, run.ingest.rows, run.ingest.uidRows, run.ingest.files.map((f) => [f.name, f.rows, f.problems]));
        console.log([...run.columns.scalars].join(' '), '|', [...run.columns.perUid].join(' '), '|', run.columns.indexedKinds);
        console.log(JSON.stringify(await run.summary()));
        console.log(JSON.stringify(await run.session.all('SELECT * EXCLUDE (file_id) FROM events LIMIT 1'), (k, v) => typeof v === 'bigint' ? Number(v) : v).slice(0, 600));
        console.log(JSON.stringify(await run.session.all('SELECT * FROM uid_events LIMIT 2'), (k, v) => typeof v === 'bigint' ? Number(v) : v).slice(0, 600));
        console.log(await run.session.all('SELECT kind, count(*)::DOUBLE n, min(uid), max(uid) FROM uid_indexed_events GROUP BY 1'));
        console.log(JSON.stringify((await run.fieldCatalog()).fields));
      } finally {
        run.close();
      }
      const again = await Run.open(path.join(FORMATS, sample), { cache });
      console.log('again', again.lastChange);
      again.close();
      expect(run.ingest.rows).toBeGreaterThan(0);
    });
  }
});
