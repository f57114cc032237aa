/**
 * Answers computed for one version of a run, by request key: a second tab, a reload or the same
 * chart asked twice reuses the answer (and a request made while the same one is computing waits for
 * it) until appended data changes the version. At most `maxBytes` of answers are kept (oldest out first).
 */
export class ResultCache {
  private readonly entries = new Map<string, { promise: Promise<string>; bytes: number }>();
  private version = -1;
  private bytes = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** Forgets every answer (the run closed: its answers are computed again when it reopens). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get(version: number, key: string, compute: () => Promise<string>): Promise<string> {
    if (version !== this.version) {
      this.entries.clear();
      this.bytes = 0;
      this.version = version;
    }
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.promise;
    }
    const entry = { promise: compute(), bytes: 0 };
    this.entries.set(key, entry);
    entry.promise.then(
      (text) => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = text.length;
        this.bytes += text.length;
        for (const [k, e] of this.entries) {
          if (this.bytes <= this.maxBytes) break;
          this.entries.delete(k);
          this.bytes -= e.bytes;
        }
      },
      () => this.entries.delete(key),
    );
    return entry.promise;
  }
}
