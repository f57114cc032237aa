// Runs one child process and measures it with its descendants (the CLI relaunches batch commands
// in a child of its own, see src/cli/relaunch.ts): wall seconds; peak RSS, the larger of any one
// process's VmHWM and the largest sum of the tree's VmRSS seen in a poll (every 50 ms until exit);
// CPU seconds, the tree's utime + stime (with children already waited for). Linux only.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const POLL_MS = 50;
const CLOCK_TICKS_PER_SECOND = 100;
const KEEP_OUTPUT_CHARS = 4000;

/** VmHWM and VmRSS of a live process in bytes (one read of its status), or undefined once it is gone. */
export function memoryOf(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { peak: kb('VmHWM'), rss: kb('VmRSS') };
}

/**
 * CPU seconds of a live process: its own user + system time, and with `waited` also that of its
 * children it has waited for; undefined once it is gone.
 */
export function cpuSecondsOf(pid, waited = false) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    const children = waited ? Number(fields[13]) + Number(fields[14]) : 0;
    return (own + children) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The live descendants of a process (children of every thread, recursively). */
function descendantsOf(pid) {
  const found = [];
  const visit = (parent) => {
    let tasks;
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ').filter(Boolean).map(Number)) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

function keepTail(text, chunk) {
  const joined = text + chunk;
  return joined.length > KEEP_OUTPUT_CHARS ? joined.slice(-KEEP_OUTPUT_CHARS) : joined;
}

/**
 * Spawns `command args…` and resolves when it exits with
 * { seconds, peakRssBytes, cpuSeconds, exitCode, signal, stdoutTail, stderrTail }.
 */
export function measureChild(command, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let peakRssBytes = 0;
    let cpuSeconds = 0;
    let stdoutTail = '';
    let stderrTail = '';
    const poll = () => {
      const tree = [child.pid, ...descendantsOf(child.pid)];
      let rssSum = 0;
      let cpu = cpuSecondsOf(child.pid, true);
      for (const pid of tree) {
        const memory = memoryOf(pid);
        if (memory) {
          peakRssBytes = Math.max(peakRssBytes, memory.peak);
          rssSum += memory.rss;
        }
        if (pid !== child.pid && cpu !== undefined) cpu += cpuSecondsOf(pid) ?? 0;
      }
      peakRssBytes = Math.max(peakRssBytes, rssSum);
      if (cpu !== undefined) cpuSeconds = Math.max(cpuSeconds, cpu);
    };
    const timer = setInterval(poll, POLL_MS);
    poll();
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdoutTail = keepTail(stdoutTail, chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderrTail = keepTail(stderrTail, chunk)));
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    let exitedAt;
    child.on('exit', () => {
      exitedAt = performance.now();
      clearInterval(timer);
    });
    child.on('close', (exitCode, signal) => {
      clearInterval(timer);
      resolve({
        seconds: ((exitedAt ?? performance.now()) - started) / 1000,
        peakRssBytes,
        cpuSeconds,
        exitCode,
        signal,
        stdoutTail,
        stderrTail,
      });
    });
  });
}
