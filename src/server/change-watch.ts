import fs from 'node:fs';

/**
 * Calls `check` every `pollMs`, and sooner when fs.watch reports a change under `path` (most writes
 * arrive within a few milliseconds that way; polling covers file systems where watching does not work).
 */
export class ChangeWatch {
  private timer: NodeJS.Timeout | undefined;
  private watcher: fs.FSWatcher | undefined;
  private nudge: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly options: { recursive: boolean; pollMs: number; check: () => void },
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(this.options.check, this.options.pollMs);
    this.timer.unref();
    try {
      this.watcher = fs.watch(this.path, { recursive: this.options.recursive, persistent: false }, () => {
        if (this.nudge) return;
        this.nudge = setTimeout(() => {
          this.nudge = undefined;
          this.options.check();
        }, 15);
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      // polling alone
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopWatching();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.nudge) clearTimeout(this.nudge);
    this.nudge = undefined;
  }
}
