import type { Run } from '../engine/run.js';
import { catalogueKept } from './metrics.js';
import type { WorkQueue } from './work-queue.js';

export interface IdleUpkeepOptions {
  queue: WorkQueue;
  /** Idle this long, DuckDB's cached blocks go back to the system (default 5 s). */
  releaseAfterMs?: number;
  /** The open run (undefined while closed or opening). */
  run: () => Run | undefined;
  /** Work asked for and not answered yet. */
  busy: () => number;
  lastUsed: () => number;
}

/**
 * What an open run does when nobody asks anything of it for a moment: its field catalogue is
 * measured and kept in the index if it is not yet (a run just read answers from a scan meanwhile;
 * the next look, after a restart too, reads it for free), and then DuckDB's cached blocks go back
 * to the system (DuckDB keeps what queries read up to its memory limit, and with several runs open
 * that adds up; the next query reads them again from the index file, mostly from the page cache).
 */
export class IdleUpkeep {
  private timer: NodeJS.Timeout | undefined;
  private releasedAt = 0;
  private catalogueMeasured = false;

  constructor(private readonly options: IdleUpkeepOptions) {}

  /**
   * A run was opened. Up to date when opened (nothing read), its catalogue was measured by an
   * earlier look and is in the index.
   */
  opened(run: Run): void {
    this.catalogueMeasured = run.lastChange.bytesRead === 0;
    if (this.catalogueMeasured) catalogueKept(run);
    this.schedule();
  }

  /** Work on the run ended: the upkeep waits for the next idle moment. */
  schedule(): void {
    this.cancel();
    const release = this.options.releaseAfterMs ?? 5_000;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.options.queue.run(() => this.upkeep(), { heavy: true }).catch(() => {});
      },
      this.catalogueMeasured ? release : Math.min(1_000, release),
    );
    this.timer.unref();
  }

  private async upkeep(): Promise<void> {
    const run = this.options.run();
    if (!run || this.options.busy()) return;
    if (this.catalogueMeasured) {
      this.releasedAt = Date.now();
      return run.session.releaseMemory();
    }
    await run.fieldCatalog();
    this.catalogueMeasured = true;
    catalogueKept(run);
    this.schedule();
  }

  /**
   * Hands the cached blocks back now (another run is at work: the two pools together would be the
   * server's peak), after the work queued.
   */
  releaseNow(): void {
    if (this.options.busy() || this.releasedAt >= this.options.lastUsed()) return;
    this.releasedAt = Date.now();
    void this.options.queue
      .run(async () => {
        const run = this.options.run();
        if (run && !this.options.busy()) await run.session.releaseMemory();
      })
      .catch(() => {});
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
