import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { Run } from '../src/engine/run.js';
import { UserError } from '../src/errors.js';
import { Fleet, parseFleetTarget } from '../src/fleet/clickhouse.js';
import { pushRun } from '../src/fleet/push.js';
import { listRuns } from '../src/fleet/runs.js';
import { ensureTables, localTable, shardOf } from '../src/fleet/tables.js';
import { simulate } from '../src/simulate/index.js';
import {
  CLUSTER,
  PASSWORD_USER,
  startCluster,
  type ClickHouseCluster,
  freePort,
} from './helpers/clickhouse.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

/**
 * `runlens push` and `runlens runs` against two real clickhouse-server shards on loopback. Each
 * test writes to a database of its own, so the counts of one do not see another's runs.
 */
const dir = tempDir('runlens-fleet-cli-');
let cluster: ClickHouseCluster;

const PROFILES = ['filetao', 'openvalidators', 'rl'] as const;
const RUNS = PROFILES.flatMap((profile, i) =>
  ['a', 'b'].map((letter, j) => ({ name: `${profile}-${letter}`, profile, seed: 10 * i + j + 1 })),
);

beforeAll(async () => {
  cluster = await startCluster(2);
  for (const r of RUNS)
    await simulate(r.profile, { out: path.join(dir, r.name), size: '250KB', seed: r.seed });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Runs the CLI in-process; returns exit code and what it printed. */
async function runlens(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await main(['node', 'runlens', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** `--clickhouse` and `--cluster` of the test cluster, in a database of the test's own. */
const target = (database: string, url = cluster.url) => [
  '--clickhouse',
  url,
  '--cluster',
  CLUSTER,
  '--database',
  database,
];

const fleetOf = (database: string) =>
  new Fleet(parseFleetTarget(cluster.url, { cluster: CLUSTER, database }));

interface Counts {
  events: number;
  uid_events: number;
  uid_indexed: number;
}

/** A run's rows per table in the fleet, failing on a duplicated event or per-uid row. */
async function fleetCounts(database: string, run: string): Promise<Counts> {
  const fleet = fleetOf(database);
  try {
    const count = async (table: string, key: string) => {
      const [row] = await fleet.query.all<{ n: number; unique: number }>(
        `SELECT count() AS n, uniqExact(${key}) AS unique FROM ${database}.${table} WHERE run = '${run}'`,
      );
      expect(Number(row.unique), `${table} of ${run}: duplicated rows`).toBe(Number(row.n));
      return Number(row.n);
    };
    return {
      events: await count('events', 'file_id, rec'),
      uid_events: await count('uid_events', 'file_id, rec, pos'),
      uid_indexed: await count('uid_indexed', 'file_id, rec, kind, uid'),
    };
  } finally {
    await fleet.close();
  }
}

/** The same counts from the run indexed locally. */
async function localCounts(input: string): Promise<Counts> {
  const run = await Run.open(input, { cache: false });
  try {
    return {
      events: run.ingest.rows,
      uid_events: run.ingest.uidRows,
      uid_indexed: (await run.summary()).uidIndexedRows,
    };
  } finally {
    run.close();
  }
}

/** A FileTAO run of `lines` events taken from a simulated log, and the log's other lines. */
async function filetaoRun(name: string, lines: number): Promise<{ file: string; rest: string[] }> {
  const source = path.join(dir, `${name}-source`);
  await simulate('filetao', { out: source, size: '300KB', seed: 99 });
  const all = fs.readFileSync(path.join(source, 'events.json'), 'utf8').split('\n').filter(Boolean);
  expect(all.length).toBeGreaterThan(lines);
  const file = path.join(dir, name, 'events.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    all
      .slice(0, lines)
      .map((l) => `${l}\n`)
      .join(''),
  );
  return { file, rest: all.slice(lines) };
}

describe('runlens push', () => {
  it('pushes two runs of each profile: rows per table as the local run, each on its shard; runs lists them', async () => {
    const paths = RUNS.map((r) => path.join(dir, r.name));
    const pushed = await runlens('push', ...paths, ...target('profiles'));
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr, 'no progress when stderr is not a terminal').toBe('');
    const lines = pushed.stdout.trim().split('\n');
    expect(lines).toHaveLength(RUNS.length);
    for (const [i, r] of RUNS.entries()) {
      const local = await localCounts(paths[i]);
      expect(local.events).toBeGreaterThan(0);
      expect(await fleetCounts('profiles', r.name)).toEqual(local);
      const node = cluster.nodes[shardOf(r.name, 2)].url;
      expect(lines[i]).toBe(
        `${r.name} → ${node}: events +${local.events.toLocaleString('en-US')}, ` +
          `uid_events +${local.uid_events.toLocaleString('en-US')}, uid_indexed +${local.uid_indexed.toLocaleString('en-US')}` +
          ' · files pushed again: 0 · rows recovered: 0 · type conflicts: 0',
      );
    }
    expect(new Set(RUNS.map((r) => shardOf(r.name, 2))).size, 'the runs cover both shards').toBe(2);

    const listed = await runlens('runs', ...target('profiles'), '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const json = JSON.parse(listed.stdout) as {
      database: string;
      runs: { run: string; profile: string; rows: number; files: number; xMin: number | null }[];
    };
    expect(json.database).toBe('profiles');
    expect(json.runs.map((r) => [r.run, r.profile])).toEqual(
      RUNS.map((r) => [r.name, r.profile]).sort((a, b) => a[0].localeCompare(b[0])),
    );
    for (const r of json.runs) expect(r.xMin).not.toBeNull();

    const text = await runlens('runs', ...target('profiles'));
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toBe('6 runs in database profiles');
    for (const r of RUNS) expect(text.stdout).toMatch(new RegExp(`^${r.name} +${r.profile} `, 'm'));
  });

  it('a second push of unchanged logs adds nothing; after an append it adds exactly the appended rows', async () => {
    const { file, rest } = await filetaoRun('append', 120);
    const runDir = path.dirname(file);
    const first = await runlens('push', runDir, ...target('append'));
    expect(first.code, first.stderr).toBe(0);
    const before = await fleetCounts('append', 'append');
    expect(before).toEqual(await localCounts(runDir));

    const again = await runlens('push', runDir, ...target('append'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('append → ');
    expect(again.stdout).toContain('events +0, uid_events +0, uid_indexed +0');
    expect(await fleetCounts('append', 'append')).toEqual(before);

    const appended = 37;
    fs.appendFileSync(
      file,
      rest
        .slice(0, appended)
        .map((l) => `${l}\n`)
        .join(''),
    );
    const local = await localCounts(runDir);
    expect(local.events).toBe(before.events + appended);
    const third = await runlens('push', runDir, ...target('append'));
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain(`events +${appended},`);
    expect(third.stdout).toContain('files pushed again: 0 · rows recovered: 0');
    const after = await fleetCounts('append', 'append');
    expect(after).toEqual(local);
    expect(after.events - before.events).toBe(appended);
  });

  it('a rewritten file is pushed again from its start, without duplicates', async () => {
    const { file } = await filetaoRun('rewrite', 150);
    const runDir = path.dirname(file);
    expect((await runlens('push', runDir, ...target('rewrite'))).code).toBe(0);
    expect(await fleetCounts('rewrite', 'rewrite')).toEqual(await localCounts(runDir));

    const other = path.join(dir, 'rewrite-other');
    await simulate('filetao', { out: other, size: '120KB', seed: 5 });
    fs.copyFileSync(path.join(other, 'events.json'), file);
    const pushed = await runlens('push', runDir, ...target('rewrite'));
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain('files pushed again: 1 (events.json)');
    expect(await fleetCounts('rewrite', 'rewrite')).toEqual(await localCounts(runDir));
  });

  it('--run is for one PATH; two paths that would be one run are refused before the second is pushed', async () => {
    const two = await runlens(
      'push',
      path.join(dir, 'filetao-a'),
      path.join(dir, 'rl-a'),
      '--run',
      'x',
      ...target('usage'),
    );
    expect(two.code).not.toBe(0);
    expect(two.stderr.split('\n')[0]).toBe('runlens: --run names one run, but 2 paths were given');

    const a = path.join(dir, 'same', 'a', 'filetao-a');
    const b = path.join(dir, 'same', 'b', 'filetao-a');
    fs.cpSync(path.join(dir, 'filetao-a'), a, { recursive: true });
    fs.cpSync(path.join(dir, 'filetao-b'), b, { recursive: true });
    const same = await runlens('push', a, b, ...target('usage'));
    expect(same.code).not.toBe(0);
    expect(same.stderr.split('\n')[0]).toBe(`runlens: ${b} and ${a} would both be run filetao-a`);
    expect(await fleetCounts('usage', 'filetao-a')).toEqual(await localCounts(a));
  });
});

describe('runlens runs', () => {
  it("lists each run's latest push, also when that push has no x range (argMax skips NULLs)", async () => {
    const fleet = fleetOf('listing');
    try {
      await ensureTables(fleet);
      const insert = (version: number, xMin: string, pushed: number) =>
        fleet.nodes[shardOf('r', 2)].command(
          `INSERT INTO ${localTable(fleet, 'runs')} (run, profile, x_label, files, rows, x_min, x_max, pushed, version)
           VALUES ('r', 'generic', 'row', 1, ${version}, ${xMin}, ${xMin}, toDateTime(${pushed}), ${version})`,
        );
      await insert(1, '5', 1_700_000_000);
      await insert(3, 'NULL', 1_700_000_300);
      await insert(2, '7', 1_700_000_200);
      expect(await listRuns(fleet)).toMatchObject([
        { run: 'r', rows: 3, xMin: null, xMax: null, pushed: new Date(1_700_000_300_000) },
      ]);
    } finally {
      await fleet.close();
    }
  });
});

describe('an interrupted push', () => {
  it('a shard killed after the first block: one line naming it unreachable; after a restart the push completes, no gap, no duplicate', async () => {
    const { file } = await filetaoRun('killed', 250);
    const runDir = path.dirname(file);
    const name = 'killed';
    const shard = shardOf(name, 2);
    const run = await Run.open(runDir, { cache: false });
    try {
      const local = {
        events: run.ingest.rows,
        uid_events: run.ingest.uidRows,
        uid_indexed: (await run.summary()).uidIndexedRows,
      };
      const fleet = fleetOf('interrupt');
      let killed: Promise<void> | undefined;
      let blocks = 0;
      const error = await pushRun(fleet, run, {
        name,
        blockEvents: 10,
        onProgress: () => {
          blocks++;
          killed ??= cluster.kill(shard);
        },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await killed;
      await fleet.close();
      expect(blocks).toBeGreaterThanOrEqual(1);
      expect(blocks, 'the push stopped before its last block').toBeLessThan(25);
      expect(error).toBeInstanceOf(UserError);
      const message = (error as UserError).message;
      expect(message).not.toContain('\n');
      expect(message).toMatch(
        new RegExp(`^ClickHouse at ${cluster.nodes[shard].url.replaceAll('.', '\\.')} is unreachable \\(`),
      );

      await cluster.start(shard);
      const again = fleetOf('interrupt');
      try {
        const result = await pushRun(again, run, { name, blockEvents: 10 });
        expect(result.node).toBe(cluster.nodes[shard].url);
        // The ledger holds the blocks that were reported (one more if the kill cut off an answer).
        expect(result.inserted.events).toBeGreaterThan(0);
        expect(result.inserted.events).toBeLessThanOrEqual(local.events - 10 * blocks);
      } finally {
        await again.close();
      }
      expect(await fleetCounts('interrupt', name)).toEqual(local);
    } finally {
      run.close();
    }
  });

  it('rows past the ledger (inserted, then the push stopped before recording them) are deleted and sent again', async () => {
    const { file } = await filetaoRun('past-ledger', 120);
    const runDir = path.dirname(file);
    const name = 'past-ledger';
    const run = await Run.open(runDir, { cache: false });
    const fleet = fleetOf('ledger');
    try {
      await pushRun(fleet, run, { name, blockEvents: 25 });
      // The ledger as it was after the second block: rows 50… of the file are past it.
      const node = fleet.nodes[shardOf(name, 2)];
      await node.command(
        `INSERT INTO ledger.files_local SELECT run, file_id, path, name, head_hash, 50, first_ord, bytes, max(version) + 1
         FROM ledger.files_local WHERE run = '${name}' GROUP BY run, file_id, path, name, head_hash, first_ord, bytes`,
      );
      const result = await pushRun(fleet, run, { name, blockEvents: 25 });
      expect(result.recovered).toBe(run.ingest.rows - 50);
      expect(result.inserted.events).toBe(run.ingest.rows - 50);
      expect(result.repushed).toEqual([]);
      expect(await fleetCounts('ledger', name)).toEqual({
        events: run.ingest.rows,
        uid_events: run.ingest.uidRows,
        uid_indexed: (await run.summary()).uidIndexedRows,
      });
    } finally {
      run.close();
      await fleet.close();
    }
  });
});

describe('credentials and errors', () => {
  const withUser = (user: string, password: string) =>
    cluster.nodes
      .map((n) => n.url.replace('http://', `http://${user}:${encodeURIComponent(password)}@`))
      .join(',');

  it('the password user: with the password in the URL (percent-encoded) or in RUNLENS_CLICKHOUSE_USER / _PASSWORD', async () => {
    const { user, password } = PASSWORD_USER;
    const runDir = path.join(dir, 'filetao-a');
    const pushed = await runlens('push', runDir, ...target('credentials', withUser(user, password)));
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(await fleetCounts('credentials', 'filetao-a')).toEqual(await localCounts(runDir));

    vi.stubEnv('RUNLENS_CLICKHOUSE_USER', user);
    vi.stubEnv('RUNLENS_CLICKHOUSE_PASSWORD', password);
    try {
      const listed = await runlens('runs', ...target('credentials'), '--json');
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { runs: { run: string }[] }).runs.map((r) => r.run)).toEqual([
        'filetao-a',
      ]);
      vi.stubEnv('RUNLENS_CLICKHOUSE_PASSWORD', 'not-the-password');
      const refused = await runlens('runs', ...target('credentials'));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.split('\n')[0]).toMatch(/refused user runlens: wrong user or password$/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a wrong password: one line, a non-zero exit, and the password printed nowhere (also with --verbose)', async () => {
    const wrong = 'Wr0ng-s3cret!';
    for (const args of [
      ['push', path.join(dir, 'filetao-a'), ...target('credentials', withUser('runlens', wrong))],
      ['runs', ...target('credentials', withUser('runlens', wrong))],
      ['runs', ...target('credentials', withUser('runlens', wrong)), '--verbose'],
    ]) {
      const r = await runlens(...args);
      expect(r.code).not.toBe(0);
      const first = r.stderr.split('\n')[0];
      expect(first).toMatch(
        /^runlens: ClickHouse at http:\/\/127\.0\.0\.1:\d+ refused user runlens: wrong user or password$/,
      );
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(encodeURIComponent(wrong));
      }
    }
  });

  it('an unreachable server and a database without runlens tables: one line each', async () => {
    const port = await freePort();
    for (const command of [['runs'], ['push', path.join(dir, 'filetao-a')]]) {
      const r = await runlens(...command, '--clickhouse', `http://127.0.0.1:${port}`);
      expect(r.code).not.toBe(0);
      expect(r.stderr.split('\n')[0]).toMatch(
        new RegExp(`^runlens: ClickHouse at http://127\\.0\\.0\\.1:${port} is unreachable \\(.*ECONNREFUSED`),
      );
    }
    const empty = await runlens('runs', ...target('nothing_here'));
    expect(empty.code).not.toBe(0);
    expect(empty.stderr.split('\n')[0]).toMatch(
      /^runlens: ClickHouse at http:\/\/127\.0\.0\.1:\d+ has no runlens tables in database nothing_here \(/,
    );
  });
});

describe('plot and analyze on the fleet', () => {
  it('plot --clickhouse --run writes the same SVG files as plot of the logs', async () => {
    const database = 'plot_cli';
    for (const name of ['filetao-a', 'rl-a'])
      expect((await runlens('push', path.join(dir, name), ...target(database), '--no-cache')).code).toBe(0);
    for (const name of ['filetao-a', 'rl-a']) {
      const local = path.join(dir, `plots-local-${name}`);
      const remote = path.join(dir, `plots-fleet-${name}`);
      expect(
        (await runlens('plot', path.join(dir, name), '--out', local, '--format', 'svg', '--no-cache')).code,
      ).toBe(0);
      const fleet = await runlens(
        'plot',
        ...target(database),
        '--run',
        name,
        '--out',
        remote,
        '--format',
        'svg',
      );
      expect(fleet.code).toBe(0);
      const files = fs
        .readdirSync(local)
        .filter((f) => f.endsWith('.svg'))
        .sort();
      expect(files.length).toBeGreaterThan(1);
      expect(
        fs
          .readdirSync(remote)
          .filter((f) => f.endsWith('.svg'))
          .sort(),
      ).toEqual(files);
      for (const file of files)
        expect(fs.readFileSync(path.join(remote, file), 'utf8'), `${name}/${file}`).toBe(
          fs.readFileSync(path.join(local, file), 'utf8'),
        );
    }
  });

  it('analyze --clickhouse: one run as from its logs; several runs as a fleet; clear errors', async () => {
    const database = 'analyze_cli';
    for (const name of ['filetao-a', 'filetao-b'])
      expect((await runlens('push', path.join(dir, name), ...target(database), '--no-cache')).code).toBe(0);
    const local = await runlens(
      'analyze',
      path.join(dir, 'filetao-a'),
      '--kind',
      'leaderboard',
      '--json',
      '--no-cache',
    );
    const one = await runlens(
      'analyze',
      ...target(database),
      '--run',
      'filetao-a',
      '--kind',
      'leaderboard',
      '--json',
    );
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).rows).toEqual(JSON.parse(local.stdout).rows);
    const both = await runlens(
      'analyze',
      ...target(database),
      '--all',
      '--kind',
      'leaderboard',
      '--json',
      '--top',
      '5',
    );
    expect(both.code).toBe(0);
    const result = JSON.parse(both.stdout) as { rows: Record<string, unknown>[] };
    expect(result.rows).toHaveLength(5);
    expect(Object.keys(result.rows[0])).toEqual(
      expect.arrayContaining(['uid', 'runs', 'spread', 'mean filetao-a', 'mean filetao-b']),
    );
    const missing = await runlens('analyze', ...target(database), '--run', 'nope', '--kind', 'leaderboard');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no run "nope" in the fleet');
    const neither = await runlens('analyze', ...target(database), '--kind', 'leaderboard');
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toContain('--run NAME, --runs A,B or --all');
    // Every --kind on one run of the fleet, as on its logs; a kind of one run is not a fleet analysis.
    const throughput = await runlens(
      'analyze',
      ...target(database),
      '--run',
      'filetao-a',
      '--kind',
      'throughput',
      '--interval',
      '20',
      '--json',
    );
    expect(throughput.code).toBe(0);
    const throughputLocal = await runlens(
      'analyze',
      path.join(dir, 'filetao-a'),
      '--kind',
      'throughput',
      '--interval',
      '20',
      '--json',
      '--no-cache',
    );
    expect(JSON.parse(throughput.stdout).rows.length).toBeGreaterThan(0);
    expect(JSON.parse(throughput.stdout).rows).toEqual(JSON.parse(throughputLocal.stdout).rows);
    const notFleet = await runlens('analyze', ...target(database), '--all', '--kind', 'throughput');
    expect(notFleet.code).not.toBe(0);
    expect(notFleet.stderr).toContain('--kind throughput is not a fleet analysis');
  });
});

describe('https', () => {
  let secure: ClickHouseCluster;
  beforeAll(async () => {
    secure = await startCluster(1, { https: true });
  }, 60_000);
  afterAll(async () => {
    await secure?.stop();
  });

  it('pushes and lists over https with the CA in NODE_EXTRA_CA_CERTS; an untrusted certificate is one clear line', async () => {
    const url = secure.nodes[0].httpsUrl!;
    const env = { NODE_EXTRA_CA_CERTS: secure.certificate! };
    const pushed = runCli(['push', path.join(dir, 'filetao-a'), '--clickhouse', url, '--no-cache'], { env });
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`filetao-a → ${url}`);
    const listed = runCli(['runs', '--clickhouse', url, '--json'], { env });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { runs: { run: string }[] }).runs.map((r) => r.run)).toEqual([
      'filetao-a',
    ]);
    const untrusted = runCli(['runs', '--clickhouse', url]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('TLS certificate is not trusted');
    expect(untrusted.stderr).toContain('NODE_EXTRA_CA_CERTS');
    expect(untrusted.stderr.trim().split('\n')).toHaveLength(2);
  });
});
