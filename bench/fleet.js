// npm run bench:fleet -- [--dir DIR] [--runs 8] [--no-save | --out FILE]     (or npm run bench -- --fleet)
//
// The fleet (#28) on a 2-shard ClickHouse cluster on loopback (bench/clickhouse-cluster.js)
// against the local engine, on the same FileTAO log (default: the bench's 1 GB one):
// - the DuckDB yardstick on the file, and the local run index's first look (a child process);
// - `pushRun` of that indexed run under the names run-1 … run-N, each in a child process (source
//   MB/s, rows/s, the pusher's peak RSS), then a push of run-1 again (nothing new); ClickHouse's
//   parts on disk once its background merges are done;
// - the fleet leaderboard over the N runs on the cluster; the local leaderboard of the run, once
//   per name (the same index N times);
// - one run on both engines: the leaderboard, and binned statistics of rewards over uid_events
//   (exact quantiles on both; the sampled band the local engine uses by default is not written
//   for ClickHouse); the N runs' reward curves (binned per run) on the cluster.
// Cluster phases report the servers' peak RSS (VmHWM, reset per phase) and CPU seconds, and what
// system.query_log recorded of each query (rows read, peak memory).
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_CLUSTER, startCluster } from './clickhouse-cluster.js';
import { ensureData } from './data.js';
import { loadAverage, machineInfo } from './machine.js';
import { cpuSecondsOf, measureChild, memoryOf } from './measure-child.js';
import { REPO_DIR, RESULTS_DIR } from './paths.js';
import { readAll } from './read-all.js';
import { formatTable } from './table.js';
import { WORKLOADS } from './workloads.js';
import { duckdbVersion, runYardstick } from './yardstick.js';

const BENCH = fileURLToPath(import.meta.url);
const dist = (module) => import(join(REPO_DIR, 'dist', module));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;
const millions = (n) => `${(n / 1e6).toFixed(1)} M`;

// ---- child phases: the index's first look, and one push (each process measured by the parent) --

async function indexPhase() {
  const { Run } = await dist('engine/run.js');
  const started = performance.now();
  const run = await Run.open(arg('--dir'), { cache: arg('--cache') });
  const seconds = (performance.now() - started) / 1000;
  const summary = await run.summary();
  console.log(
    JSON.stringify({
      seconds,
      rows: summary.rows,
      uidRows: summary.uidRows,
      indexed: summary.uidIndexedRows,
    }),
  );
  run.close();
}

async function pushPhase() {
  const { Run } = await dist('engine/run.js');
  const { Fleet, parseFleetTarget } = await dist('fleet/clickhouse.js');
  const { pushRun } = await dist('fleet/push.js');
  const opened = performance.now();
  const run = await Run.open(arg('--dir'), { cache: arg('--cache') });
  const openSeconds = (performance.now() - opened) / 1000;
  const fleet = new Fleet(parseFleetTarget(arg('--urls'), { cluster: arg('--cluster') }));
  try {
    const started = performance.now();
    const result = await pushRun(fleet, run, { name: arg('--name') });
    console.log(JSON.stringify({ openSeconds, seconds: (performance.now() - started) / 1000, ...result }));
  } finally {
    await fleet.close();
    run.close();
  }
}

// ---- the parent: cluster phases measured on the servers --------------------------------------

/** Runs `fn` and measures the servers around it: peak RSS, CPU seconds and query_log's entries. */
async function onCluster(cluster, fn) {
  // Flushed first: queries of earlier phases still buffered would otherwise land after the truncate.
  for (const node of cluster.nodes) {
    await cluster.exec(node, 'SYSTEM FLUSH LOGS');
    await cluster.exec(node, 'TRUNCATE TABLE IF EXISTS system.query_log');
  }
  cluster.resetPeaks();
  writeFileSync('/proc/self/clear_refs', '5');
  const cpuBefore = cluster.nodes.map((n) => cpuSecondsOf(n.process.pid));
  const started = performance.now();
  let result;
  let error;
  try {
    result = await fn();
  } catch (caught) {
    error = caught;
  }
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = cluster.nodes.map((n, i) => cpuSecondsOf(n.process.pid) - cpuBefore[i]);
  const serverPeaks = cluster.peaks().map((m) => m?.peak ?? 0);
  const clientPeak = memoryOf(process.pid).peak;
  const queries = [];
  for (const [i, node] of cluster.nodes.entries()) {
    await cluster.exec(node, 'SYSTEM FLUSH LOGS');
    const rows = await cluster.query(
      node,
      `SELECT is_initial_query AS initial, query_duration_ms AS ms, read_rows, read_bytes, memory_usage, substring(query, 1, 160) AS query
       FROM system.query_log WHERE type = 2 AND query NOT LIKE '%query_log%' AND query NOT LIKE 'SYSTEM%' ORDER BY query_start_time`,
    );
    for (const r of rows)
      queries.push({
        node: i,
        initial: Number(r.initial) === 1,
        ms: Number(r.ms),
        readRows: Number(r.read_rows),
        readBytes: Number(r.read_bytes),
        memoryBytes: Number(r.memory_usage),
        query: r.query.replace(/\s+/g, ' '),
      });
  }
  return { seconds, result, error, serverPeaks, serverCpu, clientPeak, queries };
}

/** Locally (in this process): seconds and this process's peak RSS around `fn`. */
async function onLocal(fn) {
  writeFileSync('/proc/self/clear_refs', '5');
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await fn();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, result, peak: memoryOf(process.pid).peak, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** Waits until no node merges parts (background merges after the pushes); returns the seconds waited. */
async function mergesDone(cluster) {
  const started = performance.now();
  for (let quiet = 0; quiet < 3;) {
    const busy = [];
    for (const node of cluster.nodes)
      busy.push(Number((await cluster.query(node, 'SELECT count() AS n FROM system.merges'))[0].n));
    quiet = busy.every((n) => n === 0) ? quiet + 1 : 0;
    if (performance.now() - started > 900_000) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return (performance.now() - started) / 1000;
}

/** Active parts of the fleet's tables per node: rows, parts and bytes on disk. */
async function storage(cluster) {
  const out = [];
  for (const [i, node] of cluster.nodes.entries()) {
    const rows = await cluster.query(
      node,
      `SELECT table, count() AS parts, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, sum(data_uncompressed_bytes) AS raw
       FROM system.parts WHERE database = 'runlens' AND active GROUP BY table ORDER BY table`,
    );
    for (const r of rows)
      out.push({
        node: i,
        table: r.table,
        parts: Number(r.parts),
        rows: Number(r.rows),
        bytes: Number(r.bytes),
        uncompressedBytes: Number(r.raw),
      });
  }
  return out;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * What query_log says of a phase: the initiator's queries (its read_rows count what every shard
 * read for it), the rows they read and the largest one's memory on the initiator.
 */
function queryNote(phase) {
  const initial = phase.queries.filter((q) => q.initial && q.node === 0);
  const read = initial.reduce((s, q) => s + q.readRows, 0);
  const top = Math.max(0, ...initial.map((q) => q.memoryBytes));
  return `${initial.length} queries reading ${millions(read)} rows, largest on the initiator ${mb(top)}; servers ${phase.serverPeaks.map(mb).join(' + ')} peak, ${phase.serverCpu.map((c) => c.toFixed(1)).join(' + ')} CPU s`;
}

/** The phase's queries, one line each: node, initial or shard, ms, rows read, memory, the SQL's start. */
function queryLines(phase) {
  return phase.queries.map(
    (q) =>
      `      node ${q.node} ${q.initial ? 'initial' : 'shard  '} ${String(q.ms).padStart(6)} ms ${millions(q.readRows).padStart(8)} rows ${mb(q.memoryBytes).padStart(7)}  ${q.query.slice(0, 70)}`,
  );
}

/**
 * The fleet bench: returns { rows, details } (rows in the shape of bench/run.js's table). `log`
 * prints each row as it is measured.
 */
export async function benchFleet({ dir, runs = 8, log = console.log } = {}) {
  const input = WORKLOADS.filetao.locate(dir ?? (await ensureData('filetao', '1GB')).dir);
  const base = { workload: 'fleet', inputBytes: input.bytes };
  const rows = [];
  const details = { input: relative(REPO_DIR, input.path), bytes: input.bytes, runs, shards: 2 };
  const add = (row) => {
    rows.push({ ...base, ...row });
    const r = rows.at(-1);
    log(
      `  ${r.command}: ${r.seconds?.toFixed(2) ?? '–'} s${r.mbPerSecond ? `, ${r.mbPerSecond.toFixed(0)} MB/s` : ''}${r.ratio ? `, ${r.ratio.toFixed(2)}× yardstick` : ''}${r.peakRssBytes ? `, peak ${mb(r.peakRssBytes)}` : ''}${r.note ? ` (${r.note})` : ''}`,
    );
    return r;
  };
  log(`\nfleet: ${input.path} (${mb(input.bytes)}), ${runs} runs on 2 ClickHouse shards on loopback`);

  const read = await readAll(input.files);
  add({ command: 'read files (page cache)', ...read, mbPerSecond: input.bytes / 1e6 / read.seconds });
  const yardstick = await runYardstick('filetao', input.files);
  const rate = input.bytes / 1e6 / yardstick.seconds;
  add({
    command: `DuckDB yardstick (${yardstick.threads} threads)`,
    seconds: yardstick.seconds,
    mbPerSecond: rate,
    ratio: 1,
    cpuSeconds: yardstick.cpuSeconds,
  });
  const perSecond = (bytes, seconds) => ({
    mbPerSecond: bytes / 1e6 / seconds,
    ratio: bytes / 1e6 / seconds / rate,
  });

  const cache = mkdtempSync(join(os.tmpdir(), 'runlens-bench-fleet-cache-'));
  const env = { ...process.env, MALLOC_ARENA_MAX: '2' };
  const child = async (args) => {
    const measured = await measureChild(process.execPath, [BENCH, ...args], { env });
    if (measured.exitCode !== 0) throw new Error(`${args[1]} phase failed:\n${measured.stderrTail}`);
    return { ...measured, out: JSON.parse(measured.stdoutTail.trim().split('\n').at(-1)) };
  };
  let cluster;
  try {
    const index = await child(['--phase', 'index', '--dir', input.path, '--cache', cache]);
    details.index = index.out;
    add({
      command: 'local index, first look (Run.open)',
      seconds: index.out.seconds,
      ...perSecond(input.bytes, index.out.seconds),
      peakRssBytes: index.peakRssBytes,
      cpuSeconds: index.cpuSeconds,
      note: `${millions(index.out.rows)} events, ${millions(index.out.uidRows)} uid rows, ${millions(index.out.indexed)} uid-indexed`,
    });
    const sourceRows = index.out.rows + index.out.uidRows + index.out.indexed;

    cluster = await startCluster({ shards: 2 });
    details.cluster = { name: BENCH_CLUSTER, nodes: cluster.nodes.map((n) => n.url) };
    const { Fleet, parseFleetTarget } = await dist('fleet/clickhouse.js');
    const { shardOf } = await dist('fleet/tables.js');
    const names = Array.from({ length: runs }, (_, i) => `run-${i + 1}`);
    details.shardOf = Object.fromEntries(names.map((n) => [n, shardOf(n, 2)]));

    const push = async (name) => {
      const cpu = cluster.nodes.map((n) => cpuSecondsOf(n.process.pid));
      cluster.resetPeaks();
      const args = ['--phase', 'push', '--dir', input.path, '--cache', cache, '--urls', cluster.url];
      const p = await child([...args, '--cluster', BENCH_CLUSTER, '--name', name]);
      return {
        name,
        seconds: p.out.seconds,
        openSeconds: p.out.openSeconds,
        processSeconds: p.seconds,
        peakRssBytes: p.peakRssBytes,
        cpuSeconds: p.cpuSeconds,
        serverCpu: cluster.nodes.map((n, i) => cpuSecondsOf(n.process.pid) - cpu[i]),
        serverPeaks: cluster.peaks().map((m) => m?.peak ?? 0),
        inserted: p.out.inserted,
        node: p.out.node,
      };
    };
    const pushes = [];
    for (const name of names) {
      pushes.push(await push(name));
      const p = pushes.at(-1);
      log(
        `    push ${name} → ${p.node}: ${p.seconds.toFixed(1)} s, peak ${mb(p.peakRssBytes)}, client CPU ${p.cpuSeconds.toFixed(1)} s, servers ${p.serverCpu.map((c) => c.toFixed(1)).join(' + ')} CPU s`,
      );
    }
    details.pushes = pushes;
    const typical = pushes.find((p) => p.seconds === median(pushes.map((q) => q.seconds)));
    const range = `${Math.min(...pushes.map((p) => p.seconds)).toFixed(1)}–${Math.max(...pushes.map((p) => p.seconds)).toFixed(1)} s`;
    add({
      command: `push to 2 shards (pushRun, median of ${runs})`,
      seconds: typical.seconds,
      ...perSecond(input.bytes, typical.seconds),
      peakRssBytes: typical.peakRssBytes,
      cpuSeconds: typical.cpuSeconds,
      rowsPerSecond: sourceRows / typical.seconds,
      note: `${millions(sourceRows / typical.seconds)} rows/s; ${range}; servers ${typical.serverCpu.map((c) => c.toFixed(1)).join(' + ')} CPU s`,
    });
    const again = await push(names[0]);
    details.pushAgain = again;
    add({
      command: 'push run-1 again (nothing new)',
      seconds: again.seconds,
      peakRssBytes: again.peakRssBytes,
      cpuSeconds: again.cpuSeconds,
      note: `inserted ${again.inserted.events + again.inserted.uid_events + again.inserted.uid_indexed} rows`,
    });

    details.mergeWaitSeconds = await mergesDone(cluster);
    details.storage = await storage(cluster);
    const onDisk = details.storage.reduce((s, p) => s + p.bytes, 0);
    log(
      `    merges done after ${details.mergeWaitSeconds.toFixed(0)} s; on disk ${mb(onDisk)} for ${runs} runs (${mb(onDisk / runs)} per run)`,
    );

    const fleet = new Fleet(parseFleetTarget(cluster.url, { cluster: BENCH_CLUSTER }));
    const { FleetRun } = await dist('fleet/fleet-run.js');
    const { analyzeFleet } = await dist('analysis/fleet-analyses.js');
    const { analyzeRun } = await dist('analysis/analyses.js');
    const { binnedStats } = await dist('engine/binned-stats.js');
    const { Run } = await dist('engine/run.js');
    const all = await FleetRun.open(fleet, 'all');
    const one = await FleetRun.open(fleet, [names[0]]);
    const local = await Run.open(input.path, { cache });
    const uidRows = index.out.uidRows;
    const clusterRow = (command, phase, bytes, scanned) => {
      const row = {
        command,
        seconds: phase.seconds,
        ...perSecond(bytes, phase.seconds),
        peakRssBytes: phase.serverPeaks.reduce((a, b) => a + b, 0),
        cpuSeconds: phase.serverCpu.reduce((a, b) => a + b, 0),
        rowsPerSecond: scanned / phase.seconds,
        note: phase.error
          ? `FAILED: ${phase.error.message.split('\n')[0]}`
          : `${millions(scanned / phase.seconds)} uid rows/s; ${queryNote(phase)}; client ${mb(phase.clientPeak)}`,
      };
      if (phase.error) delete row.mbPerSecond;
      return row;
    };
    const localRow = (command, phase, bytes, scanned) => ({
      command,
      seconds: phase.seconds,
      ...perSecond(bytes, phase.seconds),
      peakRssBytes: phase.peak,
      cpuSeconds: phase.cpuSeconds,
      rowsPerSecond: scanned / phase.seconds,
      note: `${millions(scanned / phase.seconds)} uid rows/s; this process`,
    });
    const phases = {};
    const cluster3 = async (key, fn) => {
      // The first answer and two more: the median is reported, all three are kept.
      const tries = [];
      for (let i = 0; i < 3; i++) {
        tries.push(await onCluster(cluster, fn));
        if (tries.at(-1).error) break;
      }
      const ok = tries.filter((t) => !t.error);
      const chosen = ok.length ? ok.find((t) => t.seconds === median(ok.map((t) => t.seconds))) : tries[0];
      phases[key] = tries.map(({ result: _r, error, ...t }) => ({ ...t, error: error?.message }));
      for (const line of queryLines(tries[0])) log(line);
      return chosen;
    };
    const local3 = async (key, fn) => {
      const tries = [];
      for (let i = 0; i < 3; i++) tries.push(await onLocal(fn));
      phases[key] = tries.map(({ result: _r, ...t }) => t);
      return tries.find((t) => t.seconds === median(tries.map((x) => x.seconds)));
    };
    const spread = (key) => {
      const s = phases[key].map((t) => t.seconds);
      return `; 3 tries ${Math.min(...s).toFixed(2)}–${Math.max(...s).toFixed(2)} s`;
    };

    let p = await cluster3('fleetLeaderboard', () => analyzeFleet(all, 'leaderboard', { top: 0 }));
    add(
      clusterRow(`fleet leaderboard, ${runs} runs (cluster)`, p, runs * input.bytes, runs * uidRows),
    ).note += spread('fleetLeaderboard');
    details.fleetLeaderboardUids = p.result?.total;
    p = await local3('localLeaderboardTimesRuns', async () => {
      for (let i = 0; i < runs; i++) await analyzeRun(local, 'leaderboard', { top: 0 });
    });
    add(
      localRow(
        `local leaderboard × ${runs} (the run's index ${runs} times)`,
        p,
        runs * input.bytes,
        runs * uidRows,
      ),
    ).note += spread('localLeaderboardTimesRuns');

    p = await cluster3('oneRunLeaderboardCluster', () => analyzeRun(one, 'leaderboard', { top: 0 }));
    add(clusterRow('leaderboard, one run (cluster: one shard)', p, input.bytes, uidRows)).note +=
      spread('oneRunLeaderboardCluster');
    p = await local3('oneRunLeaderboardLocal', () => analyzeRun(local, 'leaderboard', { top: 0 }));
    add(localRow('leaderboard, one run (local)', p, input.bytes, uidRows)).note +=
      spread('oneRunLeaderboardLocal');

    const binned = { table: 'uid_events', columns: ['rewards'], maxBins: 1000 };
    p = await cluster3('binnedExactCluster', () =>
      binnedStats(one, { ...binned, exactQuantileRows: Infinity }),
    );
    add(clusterRow('binned rewards, one run, exact band (cluster)', p, input.bytes, uidRows)).note +=
      spread('binnedExactCluster');
    p = await local3('binnedExactLocal', () =>
      binnedStats(local, { ...binned, exactQuantileRows: Infinity }),
    );
    add(localRow('binned rewards, one run, exact band (local)', p, input.bytes, uidRows)).note +=
      spread('binnedExactLocal');
    p = await local3('binnedSampledLocal', () => binnedStats(local, binned));
    add(localRow('binned rewards, one run, sampled band (local default)', p, input.bytes, uidRows)).note +=
      spread('binnedSampledLocal');
    p = await onCluster(cluster, () => binnedStats(one, binned));
    for (const line of queryLines(p)) log(line);
    phases.binnedDefaultCluster = [{ ...p, result: undefined, error: p.error?.message }];
    add(clusterRow('binned rewards, one run, default (cluster)', p, input.bytes, uidRows));

    p = await onCluster(cluster, () => analyzeFleet(all, 'rewards', {}));
    for (const line of queryLines(p)) log(line);
    phases.fleetRewardsDefault = [{ ...p, result: undefined, error: p.error?.message }];
    add(
      clusterRow(`fleet rewards, ${runs} runs (analyzeFleet default)`, p, runs * input.bytes, runs * uidRows),
    );
    const perRun = { ...binned, maxBins: 200, groupBy: 'run', exactQuantileRows: Infinity };
    p = await cluster3('fleetRewardsExact', () => binnedStats(all, perRun));
    add(
      clusterRow(
        `binned rewards per run, ${runs} runs, exact band (cluster)`,
        p,
        runs * input.bytes,
        runs * uidRows,
      ),
    ).note += spread('fleetRewardsExact');

    details.phases = phases;
    local.close();
    await fleet.close();
  } finally {
    await cluster?.stop();
    rmSync(cache, { recursive: true, force: true });
  }
  return { rows, details };
}

async function main() {
  const phase = arg('--phase');
  if (phase === 'index') return indexPhase();
  if (phase === 'push') return pushPhase();
  const started = new Date();
  const loadBefore = loadAverage();
  const machine = machineInfo(await duckdbVersion());
  console.log(
    `runlens bench:fleet: ${machine.cpu}, ${machine.nproc} cores, load average ${loadBefore.join(' ')}`,
  );
  const { rows, details } = await benchFleet({
    dir: arg('--dir') && resolve(arg('--dir')),
    runs: Number(arg('--runs', '8')),
  });
  const loadAfter = loadAverage();
  const table = formatTable(rows);
  console.log(`\n${table}\n\nload average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`);
  const results = {
    date: started.toISOString(),
    args: process.argv.slice(2),
    machine,
    load: { before: loadBefore, after: loadAfter },
    seconds: (Date.now() - started.getTime()) / 1000,
    fleet: { rows, ...details },
    table,
  };
  if (process.argv.includes('--no-save') && !arg('--out')) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const name = `${started.toISOString().slice(0, 10)}-fleet`;
  let file = arg('--out') ? resolve(arg('--out')) : join(RESULTS_DIR, `${name}.json`);
  for (let n = 2; !arg('--out') && existsSync(file); n++) file = join(RESULTS_DIR, `${name}-${n}.json`);
  const round = (_key, value) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;
  writeFileSync(file, `${JSON.stringify(results, round, 1)}\n`);
  console.log(`results: ${relative(REPO_DIR, file)}`);
}

if (process.argv[1] === BENCH) await main();
