// Runs one child process and measures it: wall seconds, peak RSS (the largest VmHWM read from
// /proc/<pid>/status, polled every 50 ms until exit) and CPU seconds (utime + stime from
// /proc/<pid>/stat at the last poll). Linux only.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const POLL_MS = 50;
const CLOCK_TICKS_PER_SECOND = 100;
const KEEP_OUTPUT_CHARS = 4000;

/** Peak resident set (VmHWM) of a live process in bytes, or undefined once it is gone. */
export function peakRssOf(pid) {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a live process has used so far, or undefined once it is gone. */
function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
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
      const rss = peakRssOf(child.pid);
      if (rss !== undefined) peakRssBytes = Math.max(peakRssBytes, rss);
      const cpu = cpuSecondsOf(child.pid);
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
