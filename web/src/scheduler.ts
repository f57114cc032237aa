/** Something on the page that fetches its data and draws itself. */
export interface Drawable {
  readonly el: HTMLElement;
  /** How much work the server does for it: cheaper charts are fetched first (default 0). */
  readonly cost?: number;
  draw(): Promise<void>;
}

/**
 * Decides when charts redraw: charts on the screen first, charts near it only for their first
 * drawing (so scrolling finds them ready); once none of those waits, the charts further down, in
 * page order, one at a time — drawn, and then kept current at a slower pace (every
 * `backgroundIntervalMs`), so a full-page capture or a later scroll finds every chart drawn and
 * live. Each chart redraws at most every `minIntervalMs` (live updates may arrive faster; ~10
 * redraws per second at most), never with two fetches at once, and at most `maxConcurrent`
 * fetches run overall.
 */
export class RedrawScheduler {
  private readonly all = new Set<Drawable>();
  private readonly dirty = new Set<Drawable>();
  /** Within 400 px of the screen. */
  private readonly near = new Set<Drawable>();
  /** On the screen. */
  private readonly onScreen = new Set<Drawable>();
  private readonly drawn = new Set<Drawable>();
  private readonly inFlight = new Set<Drawable>();
  private readonly lastStart = new Map<Drawable, number>();
  private readonly byElement = new Map<Element, Drawable>();
  private readonly observers: IntersectionObserver[];
  private timer: number | undefined;
  private destroyed = false;
  private drawNear = true;

  constructor(
    private readonly minIntervalMs = 100,
    private readonly maxConcurrent = 4,
    private readonly backgroundIntervalMs = 2000,
  ) {
    const observe = (set: Set<Drawable>, rootMargin: string): IntersectionObserver =>
      new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            const d = this.byElement.get(entry.target);
            if (!d) continue;
            if (entry.isIntersecting) set.add(d);
            else set.delete(d);
          }
          this.tick();
        },
        { rootMargin },
      );
    this.observers = [observe(this.near, '400px 0px'), observe(this.onScreen, '0px')];
  }

  add(d: Drawable): void {
    this.all.add(d);
    this.byElement.set(d.el, d);
    for (const observer of this.observers) observer.observe(d.el);
    this.dirty.add(d);
  }

  invalidate(d: Drawable): void {
    this.dirty.add(d);
    this.tick();
  }

  /**
   * Whether charts near the screen are drawn ahead of being scrolled to. Off while the run is still
   * being read: only what is on the screen is asked of a server busy indexing.
   */
  prefetch(enabled: boolean): void {
    this.drawNear = enabled;
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
    const foreground = [...this.dirty].filter(
      (d) => this.onScreen.has(d) || (this.drawNear && this.near.has(d) && !this.drawn.has(d)),
    );
    foreground.sort(
      (a, b) => Number(this.onScreen.has(b)) - Number(this.onScreen.has(a)) || (a.cost ?? 0) - (b.cost ?? 0),
    );
    // The rest only when nothing on or near the screen waits, and never more than one at a time.
    const waiting = foreground.some((d) => !this.inFlight.has(d));
    const background =
      this.drawNear && !waiting
        ? [...this.dirty]
            .filter((d) => !foreground.includes(d))
            .sort((a, b) => (a.el.compareDocumentPosition(b.el) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))
        : [];
    const queue: [Drawable, number, number][] = [
      ...foreground.map((d): [Drawable, number, number] => [d, this.minIntervalMs, this.maxConcurrent]),
      ...background.map((d): [Drawable, number, number] => [
        d,
        this.drawn.has(d) ? this.backgroundIntervalMs : 0,
        1,
      ]),
    ];
    for (const [d, interval, concurrent] of queue) {
      if (this.inFlight.has(d)) continue;
      if (this.inFlight.size >= concurrent) break;
      const since = now - (this.lastStart.get(d) ?? -Infinity);
      if (since < interval) {
        waitMs = Math.min(waitMs, interval - since);
        continue;
      }
      this.dirty.delete(d);
      this.inFlight.add(d);
      this.drawn.add(d);
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
    for (const observer of this.observers) observer.disconnect();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
