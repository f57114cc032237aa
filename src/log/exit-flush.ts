const openLogs = new Set<{ flushSync(): void }>();
let exitHookInstalled = false;

/** Writes the queue of every open log synchronously when the process exits normally. */
export function registerForExit(log: { flushSync(): void }): void {
  openLogs.add(log);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const open of openLogs) {
      try {
        open.flushSync();
      } catch {
        // the process is ending; nothing left to report to
      }
    }
  });
}

export function unregisterForExit(log: { flushSync(): void }): void {
  openLogs.delete(log);
}
