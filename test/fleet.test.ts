import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Run } from '../src/engine/run.js';
import { Fleet, parseFleetTarget } from '../src/fleet/clickhouse.js';
import { pushRun } from '../src/fleet/push.js';
import { simulate } from '../src/simulate/index.js';
import { CLUSTER, startCluster, type ClickHouseCluster } from './helpers/clickhouse.js';
import { tempDir } from './helpers/temp.js';

const dir = tempDir('runlens-fleet-');
let cluster: ClickHouseCluster;

beforeAll(async () => {
  cluster = await startCluster(2);
  await simulate('filetao', { out: path.join(dir, 'ft-a'), size: '300KB', seed: 3 });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('push', () => {
  it('pushes a run and a second push adds nothing', async () => {
    const fleet = new Fleet(parseFleetTarget(cluster.url, { cluster: CLUSTER }));
    const run = await Run.open(path.join(dir, 'ft-a'), { cache: false });
    try {
      const first = await pushRun(fleet, run, { name: 'ft-a' });
      console.log(first);
      const second = await pushRun(fleet, run, { name: 'ft-a' });
      console.log(second);
      const counts = await fleet.query.all<{ n: number }>('SELECT count() AS n FROM runlens.uid_events');
      expect(Number(counts[0].n)).toBe(run.ingest.uidRows);
    } finally {
      run.close();
      await fleet.close();
    }
  }, 120_000);
});
