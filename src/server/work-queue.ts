interface Task {
  work: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  heavy: boolean;
  queuedAt: number;
}

/**
 * Runs one task at a time (a run has one DuckDB connection), quick tasks before heavy ones: a chart
 * of per-event bins does not wait behind a scan of every uid row that was asked for just before it.
 * A heavy task waiting longer than `maxWaitMs` goes next, so it is never starved by a stream of quick ones.
 */
export class WorkQueue {
  private readonly tasks: Task[] = [];
  private busy = false;

  /** `now` is the clock used for waiting times (injectable so tests need no real waiting). */
  constructor(
    private readonly maxWaitMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  run<T>(work: () => Promise<T>, options: { heavy?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push({
        work,
        resolve: resolve as (value: unknown) => void,
        reject,
        heavy: options.heavy ?? false,
        queuedAt: this.now(),
      });
      this.next();
    });
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.run(async () => {}, { heavy: true }).then(() =>
      this.tasks.length ? this.idle() : undefined,
    );
  }

  private next(): void {
    if (this.busy || !this.tasks.length) return;
    const now = this.now();
    const overdue = this.tasks.findIndex((t) => t.heavy && now - t.queuedAt > this.maxWaitMs);
    const quick = this.tasks.findIndex((t) => !t.heavy);
    const index = overdue >= 0 ? overdue : quick >= 0 ? quick : 0;
    const [task] = this.tasks.splice(index, 1);
    this.busy = true;
    task
      .work()
      .then(task.resolve, task.reject)
      .finally(() => {
        this.busy = false;
        this.next();
      });
  }
}
