import fs from 'node:fs';

/** This process's temporary files and directories (run databases, spill and staging directories). */
const tracked = new Set<string>();

/** Remembers a temporary path, so an interrupted command still removes it. */
export function trackTemp(path: string): void {
  tracked.add(path);
}

/** Forgets a temporary path (its owner removed it). */
export function untrackTemp(path: string): void {
  tracked.delete(path);
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Until the returned function is called: on SIGINT, SIGTERM or SIGHUP, removes every tracked
 * temporary path, then dies of the signal as it would have (the default action). Without it, a
 * Ctrl-C during a large run's `inspect` left its index (GBs) and spill files in the temp directory.
 */
export function removeTempsOnSignal(): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    for (const path of tracked) fs.rmSync(path, { recursive: true, force: true });
    tracked.clear();
    dispose();
    process.kill(process.pid, signal);
  };
  const dispose = (): void => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return dispose;
}
