import { spawn } from 'node:child_process';
import os from 'node:os';
import { commandName } from './commands.js';

/**
 * Commands that run to completion over a whole run and spend much of it in DuckDB's threads.
 * `serve` and `tail` are left out: they stop cleanly on the first Ctrl-C and exit on the second,
 * and a terminal's Ctrl-C reaches both processes of a relaunch, which would count as two.
 */
const BATCH_COMMANDS = new Set([
  'inspect',
  'plot',
  'plot-events',
  'visualize-training',
  'report',
  'analyze',
  'export',
  'push',
]);

/** Whether a command is one of the batch commands (see BATCH_COMMANDS). */
export function isBatchCommand(name: string | undefined): boolean {
  return name !== undefined && BATCH_COMMANDS.has(name);
}

/** Arenas glibc's malloc may use: fewer arenas hold less freed memory (see `shouldRelaunch`). */
export const MALLOC_ARENAS = '2';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Whether the CLI should run itself again with `MALLOC_ARENA_MAX` set. glibc gives threads their
 * own malloc arenas (up to 8 per core) and keeps what DuckDB's threads free in them; on a 2 GB
 * FileTAO `report` the process peaked at 1141 MB with glibc's default and 869 MB with 2 arenas
 * (and ran faster). The variable must be set before the process starts, hence the relaunch.
 * A value the user set is kept; `RUNLENS_RELAUNCH=0` turns the relaunch off.
 */
export function shouldRelaunch(argv: string[], env: NodeJS.ProcessEnv, platform = process.platform): boolean {
  if (platform !== 'linux') return false;
  if (env.MALLOC_ARENA_MAX !== undefined || env.RUNLENS_RELAUNCH === '0') return false;
  return isBatchCommand(commandName(argv));
}

/**
 * Runs `node <this script> <args>` again with `MALLOC_ARENA_MAX` set, stdio shared, and resolves
 * with its exit code. Signals sent to this process are passed on; a child killed by a signal makes
 * this process die of the same signal, so callers see what they would have seen without the relaunch.
 */
export function relaunch(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    // Listening before the spawn: a signal that came while spawn() waited for the child's exec
    // (a busy machine: many ms) killed this process by default and left the child running alone.
    // Node runs the listener from the event loop, after `child` is assigned below.
    const forward = (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
      stdio: 'inherit',
      env: { ...env, MALLOC_ARENA_MAX: MALLOC_ARENAS },
    });
    const stopForwarding = () => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.on('error', (error) => {
      stopForwarding();
      reject(error);
    });
    child.on('exit', (code, signal) => {
      stopForwarding();
      if (signal) {
        // Die of the same signal where Node's default does that; else the shell's 128 + n.
        if ([...FORWARDED_SIGNALS, 'SIGKILL'].includes(signal)) process.kill(process.pid, signal);
        setTimeout(() => resolve(128 + (os.constants.signals[signal] ?? 0)), 100).unref();
        return;
      }
      resolve(code ?? 1);
    });
  });
}
