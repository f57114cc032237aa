// npm run bench -- [--quick | --size 2GB] [--workloads filetao,rl,openvalidators] [--flatness] [--no-fleet]
// Simulated inputs (cached in bench/data/), the DuckDB yardstick and every runlens command on the
// same files; prints a table and writes bench/results/<date>-<size>.json.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { appendedLooks } from './appended.js';
import { parseArgs, parseSize, sizeLabel, WORKLOAD_NAMES } from './args.js';
import { cliInfo } from './cli-info.js';
import { ensureData } from './data.js';
import { CLICKHOUSE_SERVER } from './clickhouse-cluster.js';
import { benchFleet } from './fleet.js';
import { loadAverage, machineInfo } from './machine.js';
import { measureChild } from './measure-child.js';
import { CLI, DATA_DIR, REPO_DIR, RESULTS_DIR } from './paths.js';
import { readAll } from './read-all.js';
import { formatTable } from './table.js';
import { checkTargets, formatTargets } from './targets.js';
import { commandLines, WORKLOADS } from './workloads.js';
import { duckdbVersion, runYardstick, YARDSTICK_THREADS } from './yardstick.js';

const OUT_DIR = join(DATA_DIR, 'out');

function countFiles(dir) {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
      .length;
  } catch {
    return 0;
  }
}

/** JSON replacer: 4 significant digits for fractional numbers keeps the result files small. */
function roundNumbers(_key, value) {
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;
}

function printRow(row) {
  const rate = row.mbPerSecond === undefined ? '' : `${row.mbPerSecond.toFixed(0)} MB/s`;
  const ratio = row.ratio === undefined ? '' : `, ${row.ratio.toFixed(2)}× yardstick`;
  const rss = row.peakRssBytes === undefined ? '' : `, peak RSS ${Math.round(row.peakRssBytes / 1e6)} MB`;
  const time = row.seconds === undefined ? '' : `${row.seconds.toFixed(1)} s, `;
  console.log(`  ${row.command}: ${time}${rate}${ratio}${rss}${row.note ? ` (${row.note})` : ''}`);
}

/** The middle value (the lower of the two middle ones for an even count: always a measured value). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** "median of 3: 32.1–34.4 s, 603–638 MB" for a row measured more than once. */
function spreadNote(runs) {
  const seconds = runs.map((run) => run.seconds);
  const mb = runs.map((run) => run.peakRssBytes).filter((bytes) => bytes !== undefined);
  const range = (values, digits) =>
    `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
  const rss = mb.length
    ? `, ${range(
        mb.map((bytes) => bytes / 1e6),
        0,
      )} MB`
    : '';
  // As many digits as the table's seconds column.
  return `median of ${runs.length}: ${range(seconds, Math.max(...seconds) < 10 ? 2 : 1)} s${rss}`;
}

/** A fresh, empty run-index cache for one command's first look. */
function freshCache() {
  const dir = join(OUT_DIR, 'cache');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Runs one `runlens …` command on an input `repeat` times back to back and returns its table row:
 * the median seconds (with that run's CPU time) and the median peak RSS; every run in `runs`.
 * Each run starts on an empty run-index cache (a first look). With `secondLook`, each run is
 * followed by the same command on the cache it left (nothing changed), reported in a second row.
 * A failed run ends the repeats and the row reports it.
 */
async function runCommand(workload, input, command, yardstickRate, repeat = 1, secondLook = false) {
  const outDir = join(OUT_DIR, workload, command.name);
  const args = command.args;
  const loadBefore = loadAverage();
  const runs = [];
  const again = [];
  for (let i = 0; i < repeat; i++) {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const env = { ...process.env, RUNLENS_CACHE_DIR: freshCache() };
    const result = await measureChild(process.execPath, [CLI, ...args], { cwd: outDir, env });
    runs.push(result);
    if (result.exitCode !== 0) break;
    if (secondLook) again.push(await measureChild(process.execPath, [CLI, ...args], { cwd: outDir, env }));
  }
  const row = rowOf(workload, input, command, runs, yardstickRate, loadBefore, countFiles(outDir));
  if (!again.length) return [row];
  const second = rowOf(workload, input, command, again, yardstickRate, loadBefore, countFiles(outDir));
  second.command = `${command.name} (second look)`;
  second.firstLookSeconds = row.seconds;
  return [row, second];
}

/** The table row of a command's runs (median seconds and peak RSS). */
function rowOf(workload, input, command, runs, yardstickRate, loadBefore, outputFiles) {
  const failed = runs.find((run) => run.exitCode !== 0);
  const seconds = median(runs.map((run) => run.seconds));
  const result = failed ?? runs.find((run) => run.seconds === seconds);
  const row = {
    workload,
    inputBytes: input.bytes,
    command: command.name,
    argv: command.args.map((arg) => arg.replace(`${REPO_DIR}/`, '')),
    seconds: result.seconds,
    mbPerSecond: input.bytes / 1e6 / result.seconds,
    peakRssBytes: failed ? failed.peakRssBytes : median(runs.map((run) => run.peakRssBytes)),
    cpuSeconds: result.cpuSeconds,
    exitCode: result.exitCode,
    outputFiles,
    load: { before: loadBefore, after: loadAverage() },
  };
  if (runs.length > 1) {
    row.runs = runs.map((run) => ({
      seconds: run.seconds,
      peakRssBytes: run.peakRssBytes,
      cpuSeconds: run.cpuSeconds,
      exitCode: run.exitCode,
    }));
    if (!failed) row.note = spreadNote(runs);
  }
  row.ratio = yardstickRate ? row.mbPerSecond / yardstickRate : undefined;
  if (failed) {
    row.note = `FAILED (exit ${failed.exitCode ?? failed.signal})`;
    row.stderr = failed.stderrTail.slice(-1500);
    console.log(failed.stderrTail);
  }
  return row;
}

async function benchWorkload(name, size, options, cli) {
  const workload = WORKLOADS[name];
  console.log(`\n${name} ${size}: ${workload.describe}`);
  const data = await ensureData(workload.profile, size, workload.simulateArgs);
  const input = workload.locate(data.dir);
  const base = { workload: name, inputBytes: input.bytes };
  const rows = [];

  // Warm the page cache so that every reader below sees the same (cached) bytes.
  const read = await readAll(input.files);
  rows.push({
    ...base,
    command: 'read files (page cache)',
    ...read,
    mbPerSecond: input.bytes / 1e6 / read.seconds,
  });
  printRow(rows.at(-1));

  const yardsticks = [];
  for (let i = 0; i < options.repeat; i++) yardsticks.push(await runYardstick(name, input.files));
  const yardstickSeconds = median(yardsticks.map((run) => run.seconds));
  const yardstick = yardsticks.find((run) => run.seconds === yardstickSeconds);
  const yardstickRate = input.bytes / 1e6 / yardstick.seconds;
  rows.push({
    ...base,
    command: `DuckDB yardstick (${yardstick.threads} threads)`,
    seconds: yardstick.seconds,
    mbPerSecond: yardstickRate,
    ratio: 1,
    cpuSeconds: yardstick.cpuSeconds,
    rssDeltaBytes: yardstick.rssDeltaBytes,
    resultRows: yardstick.resultRows,
    note: `RSS +${Math.round(yardstick.rssDeltaBytes / 1e6)} MB in the bench process${
      yardsticks.length > 1 ? `; ${spreadNote(yardsticks)}` : ''
    }`,
    ...(yardsticks.length > 1 ? { runs: yardsticks.map((run) => ({ seconds: run.seconds })) } : {}),
  });
  printRow(rows.at(-1));

  for (const command of commandLines(name, input, join(OUT_DIR, name), cli)) {
    if (options.commands && !options.commands.includes(command.name)) continue;
    const measured = command.skipped
      ? [{ ...base, command: command.name, note: `skipped: ${command.skipped}` }]
      : await runCommand(name, input, command, yardstickRate, options.repeat, true);
    for (const row of measured) {
      rows.push(row);
      printRow(row);
    }
  }
  const generation = { seconds: data.marker.seconds, output: data.marker.output.replace(`${REPO_DIR}/`, '') };
  return { name, size, files: input.files.length, bytes: input.bytes, generation, rows };
}

/** Commands whose peak RSS --flatness compares (or those given with --commands). */
export const FLATNESS_COMMANDS = ['inspect', 'plot', 'report', 'export'];

/**
 * Peak RSS of each command (full index or the scanner's path) on each workload at two sizes.
 * `commands` holds FileTAO's growth (as results before --flatness-workloads did), `workloads`
 * every workload's.
 */
async function flatness(sizes, cli, names, workloadNames, repeat) {
  const rows = [];
  const byWorkload = {};
  for (const workload of workloadNames) {
    console.log(`\nflatness: runlens ${names.join(', ')} on ${workload} at ${sizes.join(' and ')}`);
    const workloadRows = [];
    for (const size of sizes) {
      const data = await ensureData(workload, size, WORKLOADS[workload].simulateArgs);
      const input = WORKLOADS[workload].locate(data.dir);
      await readAll(input.files);
      for (const command of commandLines(workload, input, join(OUT_DIR, workload), cli)) {
        if (!names.includes(command.name) || command.skipped) continue;
        const [row] = await runCommand(workload, input, command, undefined, repeat);
        row.command = `${command.name} (flatness ${size})`;
        row.flatnessCommand = command.name;
        workloadRows.push(row);
        printRow(row);
      }
    }
    const commands = {};
    for (const name of names) {
      const [small, large] = workloadRows.filter((row) => row.flatnessCommand === name && row.exitCode === 0);
      if (!small || !large) continue;
      const growth = large.peakRssBytes / small.peakRssBytes;
      commands[name] = {
        growth,
        small: small.peakRssBytes,
        large: large.peakRssBytes,
        largeInput: large.inputBytes,
        inputGrowth: large.inputBytes / small.inputBytes,
      };
      console.log(
        `  ${name}: peak RSS grows ${growth.toFixed(2)}× for ${(large.inputBytes / small.inputBytes).toFixed(1)}× input`,
      );
    }
    byWorkload[workload] = commands;
    rows.push(...workloadRows);
  }
  const all = Object.values(byWorkload).flatMap((commands) => Object.values(commands));
  return {
    sizes,
    rows,
    commands: byWorkload.filetao ?? {},
    workloads: byWorkload,
    peakRssGrowth: Math.max(...all.map((c) => c.growth)),
    inputGrowth: Math.max(...all.map((c) => c.inputGrowth)),
  };
}

/** RL commands timed at a tenth of the workload size too, to extrapolate by the marginal rate. */
const SCALING_COMMANDS = ['plot', 'visualize-training'];

/**
 * `plot` and `visualize-training` on an RL run of a tenth of the workload's size: with the
 * workload's own rows, the time per extra byte (what a 27 GB run adds) apart from the fixed cost
 * of starting and rendering.
 */
async function rlScaling(size, cli, commands, repeat) {
  const small = sizeLabel(`${Math.round(parseSize(size) / 10)}B`);
  console.log(`\nrl scaling: ${commands.join(', ')} on RL at ${small} (a tenth of ${size})`);
  const data = await ensureData('rl', small, WORKLOADS.rl.simulateArgs);
  const input = WORKLOADS.rl.locate(data.dir);
  await readAll(input.files);
  const rows = [];
  for (const command of commandLines('rl', input, join(OUT_DIR, 'rl-scaling'), cli)) {
    if (!commands.includes(command.name) || command.skipped) continue;
    const [row] = await runCommand('rl', input, command, undefined, repeat);
    row.command = `${command.name} (scaling ${small})`;
    row.scalingCommand = command.name;
    rows.push(row);
    printRow(row);
  }
  return { size: small, rows };
}

/** visualize-training on an RL run of `size` (27 GB in the issue), first look, measured. */
async function largeRl(size, cli) {
  console.log(`\nrl large: visualize-training on RL at ${size}`);
  const data = await ensureData('rl', size, WORKLOADS.rl.simulateArgs);
  const input = WORKLOADS.rl.locate(data.dir);
  await readAll(input.files);
  const rows = [];
  for (const command of commandLines('rl', input, join(OUT_DIR, 'rl-large'), cli)) {
    if (command.name !== 'visualize-training' || command.skipped) continue;
    const [row] = await runCommand('rl', input, command, undefined, 1);
    row.command = `${command.name} (${size})`;
    row.largeCommand = command.name;
    rows.push(row);
    printRow(row);
  }
  return { size, rows };
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`runlens bench: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  const started = new Date();
  const loadBefore = loadAverage();
  const machine = machineInfo(await duckdbVersion());
  const cli = cliInfo();
  console.log(
    `runlens bench: ${machine.cpu}, ${machine.nproc} cores, ${machine.ramGB} GB RAM, Node ${machine.node}, ` +
      `DuckDB ${machine.duckdb}; yardstick threads ${YARDSTICK_THREADS}; load average ${loadBefore.join(' ')}`,
  );
  console.log(`CLI commands: ${cli.commands.join(', ')}`);

  const workloads = [];
  for (const name of options.workloads) {
    workloads.push(await benchWorkload(name, options.sizes[name], options, cli));
  }
  const flat = options.flatness
    ? await flatness(
        options.flatnessSizes,
        cli,
        FLATNESS_COMMANDS.filter((name) => !options.commands || options.commands.includes(name)),
        options.flatnessWorkloads,
        options.repeat,
      )
    : undefined;
  const scalingCommands = SCALING_COMMANDS.filter(
    (name) => !options.commands || options.commands.includes(name),
  );
  const scaling =
    options.workloads.includes('rl') && scalingCommands.length
      ? await rlScaling(options.sizes.rl, cli, scalingCommands, options.repeat)
      : undefined;
  const appended = options.appended ? await appendedLooks(options.appended, options.commands) : undefined;
  const rlLarge = options.rlLarge ? await largeRl(options.rlLarge, cli) : undefined;
  const fleetOn =
    options.fleet === true ||
    (options.fleet === 'auto' && CLICKHOUSE_SERVER !== undefined && options.workloads.includes('filetao'));
  if (options.fleet === 'auto' && !fleetOn)
    console.log(
      CLICKHOUSE_SERVER
        ? 'fleet rows skipped: FileTAO is not among the workloads'
        : 'fleet rows skipped: clickhouse-server is not installed (apt-get install clickhouse-server)',
    );
  const fleet = fleetOn
    ? await benchFleet({ dir: (await ensureData('filetao', options.sizes.filetao)).dir })
    : undefined;
  const loadAfter = loadAverage();

  const rows = [
    ...workloads.flatMap((workload) => workload.rows),
    ...(scaling?.rows ?? []),
    ...(rlLarge?.rows ?? []),
    ...(appended?.rows ?? []),
    ...(flat?.rows ?? []),
    ...(fleet?.rows ?? []),
  ];
  const table = formatTable(rows);
  const targets = checkTargets(workloads, flat, appended, rlLarge);
  console.log(`\n${table}\n\nload average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`);
  console.log(`\ntargets:\n${formatTargets(targets)}`);

  if (options.save) {
    const results = {
      date: started.toISOString(),
      args: process.argv.slice(2),
      repeat: options.repeat,
      machine,
      yardstickThreads: YARDSTICK_THREADS,
      load: { before: loadBefore, after: loadAfter },
      seconds: (Date.now() - started.getTime()) / 1000,
      workloads,
      flatness: flat,
      rlScaling: scaling,
      appended,
      rlLarge,
      fleet: fleet && { rows: fleet.rows, ...fleet.details },
      targets,
      table,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    // A partial run (some workloads or commands) gets a name of its own, so it never replaces a full one.
    const name = [started.toISOString().slice(0, 10), options.sizeName];
    if (options.workloads.join() !== WORKLOAD_NAMES.join() && (options.workloads.length || options.flatness))
      name.push(options.workloads.join('+') || 'flatness');
    if (options.flatness && options.flatnessWorkloads.join() !== 'filetao') {
      name.push(`${options.workloads.length ? 'flatness-' : ''}${options.flatnessWorkloads.join('+')}`);
    }
    if (options.commands) name.push(options.commands.join('+'));
    if (options.appended) name.push(`appended${options.appended}`);
    if (options.rlLarge) name.push(`rl${options.rlLarge}`);
    if (fleet) name.push('fleet');
    if (options.repeat > 1) name.push(`repeat${options.repeat}`);
    // A second run of the same kind on the same day gets -2, -3, …: BENCHMARKS.md cites the earlier one.
    let file = join(RESULTS_DIR, `${name.join('-')}.json`);
    for (let n = 2; existsSync(file); n++) file = join(RESULTS_DIR, `${name.join('-')}-${n}.json`);
    writeFileSync(file, `${JSON.stringify(results, roundNumbers, 1)}\n`);
    console.log(`results: ${relative(REPO_DIR, file)}`);
  }
  if (rows.some((row) => row.exitCode !== undefined && row.exitCode !== 0)) process.exitCode = 1;
}

await main();
