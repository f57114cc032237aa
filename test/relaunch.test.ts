import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MALLOC_ARENAS, shouldRelaunch } from '../src/cli/relaunch.js';
import { BIN, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const argv = (...args: string[]) => ['/usr/bin/node', BIN, ...args];

/** Child pids of every thread of a live process (Linux). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    found.push(...text.split(' ').filter(Boolean).map(Number));
  }
  return found;
}

/** Whether a process is still running (an unreaped zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('batch commands relaunch with fewer malloc arenas', () => {
  it('decides by platform, command and environment', () => {
    expect(shouldRelaunch(argv('report', 'x.json'), {}, 'linux')).toBe(true);
    expect(shouldRelaunch(argv('--verbose', 'plot', 'x.json'), {}, 'linux')).toBe(true);
    for (const name of ['inspect', 'export', 'analyze', 'visualize-training', 'plot-events'])
      expect(shouldRelaunch(argv(name, 'x.json'), {}, 'linux')).toBe(true);
    // Long-running commands with their own Ctrl-C handling, quick ones, help: no relaunch.
    for (const args of [['serve', '.'], ['tail', 'x.json'], ['simulate', 'rl'], ['--help'], []])
      expect(shouldRelaunch(argv(...args), {}, 'linux')).toBe(false);
    expect(shouldRelaunch(argv('report', 'x.json'), { MALLOC_ARENA_MAX: '8' }, 'linux')).toBe(false);
    expect(shouldRelaunch(argv('report', 'x.json'), { RUNLENS_RELAUNCH: '0' }, 'linux')).toBe(false);
    expect(shouldRelaunch(argv('report', 'x.json'), {}, 'darwin')).toBe(false);
  });

  it('passes output and exit codes through unchanged', () => {
    const missing = path.join(tempDir(), 'nope.json');
    const relaunched = runCli(['inspect', missing]);
    const direct = runCli(['inspect', missing], { env: { RUNLENS_RELAUNCH: '0' } });
    expect(relaunched.code).not.toBe(0);
    expect(relaunched).toEqual(direct);
  });

  it('runs the command in a child with MALLOC_ARENA_MAX set and passes SIGTERM on', async () => {
    const dir = tempDir();
    const made = runCli(['simulate', 'filetao', '--out', dir, '--size', '30MB']);
    expect(made.code).toBe(0);
    const parent = spawn(process.execPath, [BIN, 'inspect', path.join(dir, 'events.json')], {
      stdio: 'ignore',
      env: { ...process.env, MALLOC_ARENA_MAX: undefined, RUNLENS_RELAUNCH: undefined },
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      parent.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let child: number | undefined;
    for (let i = 0; i < 400 && child === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      child = childrenOf(parent.pid!)[0];
    }
    expect(child).toBeDefined();
    // Between the fork and the child's exec its environment reads as the parent's (or empty): wait
    // for the exec (long on a busy machine; waiting for any environment made this test flaky).
    const environ = () => fs.readFileSync(`/proc/${child}/environ`, 'utf8').split('\0').filter(Boolean);
    const arenas = `MALLOC_ARENA_MAX=${MALLOC_ARENAS}`;
    for (let i = 0; i < 1000 && !environ().includes(arenas); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(environ()).toContain(arenas);
    parent.kill('SIGTERM');
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
    for (let i = 0; i < 100 && alive(child!); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive(child!)).toBe(false);
  });

  it('removes the run database and spill files when interrupted, and still dies of the signal', async () => {
    const dir = tempDir();
    const made = runCli(['simulate', 'filetao', '--out', dir, '--size', '270MB']);
    expect(made.code).toBe(0);
    const temp = tempDir();
    // --no-cache: the run is indexed into a temporary database, which must not outlive the command.
    const parent = spawn(process.execPath, [BIN, 'inspect', path.join(dir, 'events.json'), '--no-cache'], {
      stdio: 'ignore',
      env: { ...process.env, TMPDIR: temp, MALLOC_ARENA_MAX: undefined, RUNLENS_RELAUNCH: undefined },
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      parent.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const ours = () => fs.readdirSync(temp).filter((name) => name.startsWith('runlens-'));
    // Indexing a run above 256 MB: a database file (and its spill directory) in a directory of its own.
    const indexing = () => ours().some((name) => fs.existsSync(path.join(temp, name, 'run.duckdb')));
    for (let i = 0; i < 3000 && !indexing(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(indexing()).toBe(true);
    const child = childrenOf(parent.pid!)[0];
    expect(child).toBeDefined();
    parent.kill('SIGINT');
    expect(await exited).toEqual({ code: null, signal: 'SIGINT' });
    for (let i = 0; i < 200 && alive(child); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive(child)).toBe(false);
    expect(ours()).toEqual([]);
  }, 60_000);

  it('a cached index interrupted while it is built is whole at the next look (each part is committed with its bookkeeping)', async () => {
    const dir = tempDir();
    expect(runCli(['simulate', 'filetao', '--out', dir, '--size', '30MB']).code).toBe(0);
    const cache = tempDir();
    const log = path.join(dir, 'events.json');
    const parent = spawn(process.execPath, [BIN, 'inspect', log, '--cache-dir', cache], {
      stdio: 'ignore',
      env: { ...process.env, RUNLENS_RELAUNCH: '0' },
    });
    const exited = new Promise((resolve) => parent.on('exit', resolve));
    const index = () => fs.readdirSync(path.join(cache, 'runs')).length > 0;
    for (let i = 0; i < 3000 && !(fs.existsSync(path.join(cache, 'runs')) && index()); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));
    parent.kill('SIGKILL');
    await exited;
    const again = runCli(['inspect', log, '--cache-dir', cache, '--json']);
    const fresh = runCli(['inspect', log, '--no-cache', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const summary = (out: string) => JSON.parse(out).summary;
    expect(summary(again.stdout)).toEqual(summary(fresh.stdout));
  }, 60_000);
});
