import { it } from 'vitest';
import { Run } from '../../src/engine/run.js';
import { tempDir } from '../helpers/temp.js';

const target = process.env.BIG;
it.skipIf(!target)('big', async () => {
  const cache = tempDir();
  let t = performance.now();
  const run = await Run.open(target!, { cache, onProgress: (p) => void p });
  console.log('index', ((performance.now() - t) / 1000).toFixed(2), 's', run.ingest.rows, run.ingest.uidRows, run.ingest.problemCount, 'rss', Math.round(process.memoryUsage.rss() / 1e6));
  t = performance.now();
  console.log(JSON.stringify(await run.summary()), ((performance.now() - t) / 1000).toFixed(2));
  t = performance.now();
  const cat = await run.fieldCatalog();
  console.log('catalog', ((performance.now() - t) / 1000).toFixed(2), cat.fields.length, [...cat.conflicts]);
  run.close();
  t = performance.now();
  const again = await Run.open(target!, { cache });
  console.log('again', ((performance.now() - t) / 1000).toFixed(2), JSON.stringify(again.lastChange));
  again.close();
  console.log(require('node:child_process').execSync(`du -sh ${cache}`).toString());
}, 600_000);
