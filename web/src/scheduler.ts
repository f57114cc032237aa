/** Something on the page that fetches its data and draws itself. */
export interface Drawable {
  readonly el: HTMLElement;
  draw(): Promise<void>;
}

/**
 * Decides when charts redraw: only charts on (or near) the screen, each at most every `minIntervalMs`
 * (live updates may arrive faster; ~10 redraws per second at most), never two fetches of one chart
 * at once, and at most `maxConcurrent` fetches overall.
 */
export class RedrawScheduler {
  private readonly all = new Set<Drawable>();
  private readonly dirty = new Set<Drawable>();
  private readonly visible = new Set<Drawable>();
  private readonly inFlight = new Set<Drawable>();
  private readonly lastStart = new Map<Drawable, number>();
  private readonly byElement = new Map<Element, Drawable>();
  private readonly observer: IntersectionObserver;
  private timer: number | undefined;
  private destroyed = false;

  constructor(
    private readonly minIntervalMs = 100,
    private readonly maxConcurrent = 4,
  ) {
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const d = this.byElement.get(entry.target);
          if (!d) continue;
          if (entry.isIntersecting) this.visible.add(d);
          else this.visible.delete(d);
        }
        this.tick();
      },
      { rootMargin: '400px 0px' },
    );
  }

  add(d: Drawable): void {
    this.all.add(d);
    this.byElement.set(d.el, d);
    this.observer.observe(d.el);
    this.dirty.add(d);
  }

  invalidate(d: Drawable): void {
    this.dirty.add(d);
    this.tick();
  }

  invalidateAll(): void {
    for (const d of this.all) this.dirty.add(d);
    this.tick();
  }

  private tick(): void {
    if (this.destroyed) return;
    const now = performance.now();
    let waitMs = Infinity;
    for (const d of this.dirty) {
      if (!this.visible.has(d) || this.inFlight.has(d)) continue;
      if (this.inFlight.size >= this.maxConcurrent) break;
      const since = now - (this.lastStart.get(d) ?? -Infinity);
      if (since < this.minIntervalMs) {
        waitMs = Math.min(waitMs, this.minIntervalMs - since);
        continue;
      }
      this.dirty.delete(d);
      this.inFlight.add(d);
      this.lastStart.set(d, now);
      d.draw()
        .catch((error: unknown) => console.error(error))
        .finally(() => {
          this.inFlight.delete(d);
          this.tick();
        });
    }
    if (waitMs !== Infinity && this.timer === undefined)
      this.timer = window.setTimeout(() => {
        this.timer = undefined;
        this.tick();
      }, waitMs);
  }

  destroy(): void {
    this.destroyed = true;
    this.observer.disconnect();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
