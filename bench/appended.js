// The second look: a FileTAO log read by a command on an empty run-index cache, then 1 % more
// events appended to it (their blocks continuing the run's), and the same command again on the
// index the first look left. Measures what a look at a grown run costs against the first.
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { ensureData } from './data.js';
import { measureChild } from './measure-child.js';
import { CLI, DATA_DIR } from './paths.js';
import { readAll } from './read-all.js';

const WORK = join(DATA_DIR, 'out', 'appended');

/** `fraction` of the log's bytes as new events: its first lines, their blocks moved past its last. */
function appendix(log, fraction) {
  const size = statSync(log).size;
  const fd = openSync(log, 'r');
  try {
    const head = Buffer.alloc(Math.ceil(size * fraction) + (1 << 20));
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.toString('utf8', 0, n);
    const lines = text.slice(0, text.lastIndexOf('\n') + 1);
    const tail = Buffer.alloc(1 << 20);
    const m = readSync(fd, tail, 0, tail.length, Math.max(0, size - tail.length));
    const blocks = (t) => [...t.matchAll(/"block": (\d+)/g)].map((match) => Number(match[1]));
    const first = blocks(lines)[0];
    const last = Math.max(...blocks(tail.toString('utf8', 0, m)));
    const shift = last - first + 1;
    let kept = '';
    for (const line of lines.split('\n')) {
      if (!line) continue;
      if (kept.length >= size * fraction) break;
      kept += `${line.replace(/"block": (\d+)/, (_, b) => `"block": ${Number(b) + shift}`)}\n`;
    }
    return kept;
  } finally {
    closeSync(fd);
  }
}

/** Command lines the second look measures, on the log at `log`. */
function commands(log, out) {
  return [
    { name: 'plot', args: ['plot', log, '--out', join(out, 'plot'), '--format', 'png'] },
    { name: 'report', args: ['report', log, '-o', join(out, 'report.html')] },
    { name: 'analyze', args: ['analyze', log, '--kind', 'leaderboard', '--json'] },
  ];
}

/**
 * Rows `command (first look SIZE)` and `command (after +1 %)` for plot, report and analyze on a copy
 * of the FileTAO log of `size` (the copy is cut back to its size between commands).
 */
export async function appendedLooks(size, only) {
  console.log(`\nsecond look: plot, report, analyze on FileTAO ${size}, then again after 1 % more events`);
  const data = await ensureData('filetao', size, []);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const log = join(WORK, 'events.json');
  copyFileSync(join(data.dir, 'events.json'), log);
  const bytes = statSync(log).size;
  const extra = appendix(log, 0.01);
  await readAll([log]);
  const rows = [];
  try {
    for (const command of commands(log, join(WORK, 'out'))) {
      if (only && !only.includes(command.name)) continue;
      const env = { ...process.env, RUNLENS_CACHE_DIR: join(WORK, 'cache') };
      rmSync(env.RUNLENS_CACHE_DIR, { recursive: true, force: true });
      const first = await measureChild(process.execPath, [CLI, ...command.args], { cwd: WORK, env });
      appendFileSync(log, extra);
      const second = await measureChild(process.execPath, [CLI, ...command.args], { cwd: WORK, env });
      truncateSync(log, bytes);
      for (const [label, result, input] of [
        [`${command.name} (first look ${size})`, first, bytes],
        [`${command.name} (after +1 %)`, second, bytes + Buffer.byteLength(extra)],
      ]) {
        const row = {
          workload: 'filetao',
          inputBytes: input,
          command: label,
          appendedCommand: command.name,
          seconds: result.seconds,
          mbPerSecond: input / 1e6 / result.seconds,
          peakRssBytes: result.peakRssBytes,
          cpuSeconds: result.cpuSeconds,
          exitCode: result.exitCode,
        };
        if (result === second) {
          row.share = second.seconds / first.seconds;
          row.note = `${(row.share * 100).toFixed(1)} % of the first look`;
        }
        if (result.exitCode !== 0) {
          row.note = `FAILED (exit ${result.exitCode ?? result.signal})`;
          console.log(result.stderrTail);
        }
        rows.push(row);
        console.log(`  ${label}: ${result.seconds.toFixed(1)} s${row.note ? ` (${row.note})` : ''}`);
      }
    }
  } finally {
    rmSync(WORK, { recursive: true, force: true });
  }
  return { size, appendedBytes: Buffer.byteLength(extra), rows };
}
