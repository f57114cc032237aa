import { sceneAxes } from './scene-axes.js';
import { scenePreview, type ScenePreview } from './scene-preview.js';

/**
 * The page's script, written as a typed function and inlined as its source text: it must not
 * reference anything outside its body (its two arguments come from the inlined bootstrap below).
 * It draws each figure when it scrolls near the viewport — a 3-D map as a still preview on a 2-D
 * canvas, made Plotly's interactive WebGL scene when the user touches it; the other figures with
 * Plotly, loaded once the figures in view are drawn — drives the group selectors (task, map), the
 * smoothing slider and the sortable tables, and exposes `window.runlensReport` (`renderAll()`,
 * `ready`) for tests and printing.
 */
export function reportClient(preview: ScenePreview, loadPlotly: () => Promise<unknown>): void {
  interface PageFigure {
    data: Record<string, unknown>[];
    layout: Record<string, unknown>;
    groups?: (string | null)[];
    smooth?: { source: number; target: number }[];
    autorangeOnSelect?: boolean;
    logColor?: boolean;
  }
  interface PlotlyApi {
    newPlot(el: HTMLElement, data: unknown[], layout: unknown, config: unknown): Promise<unknown>;
    restyle(el: HTMLElement, update: unknown, traces?: number[]): Promise<unknown>;
    relayout(el: HTMLElement, update: unknown): Promise<unknown>;
  }
  const ALL = '__all__';
  /** A pointer moving over a preview this long means the user means it: make it interactive. */
  const HOVER_INTENT_MS = 400;
  const win = window as unknown as Record<string, unknown>;
  const plotly = loadPlotly as () => Promise<PlotlyApi>;
  const payload = JSON.parse(document.getElementById('runlens-data')!.textContent!) as {
    figures: Record<string, PageFigure>;
    smoothingWeight: number;
  };
  const figures = payload.figures;
  const selected = new Map<string, string>();
  let weight = payload.smoothingWeight;
  /** Each figure's first drawing (a 3-D map's: its preview). */
  const rendering = new Map<string, Promise<unknown>>();
  /** The 3-D maps whose interactive scene was asked for, until Plotly has drawn it. */
  const interactive = new Map<string, Promise<unknown>>();
  /** The latest preview drawing of each 3-D map: a newer one (task switch, resize) stops the older. */
  const previewDrawing = new Map<string, number>();
  let printing = false;
  // Nothing leaves the machine: no logo link, no "share"/"edit in Chart Studio" button or its server.
  const config = {
    responsive: true,
    displaylogo: false,
    scrollZoom: false,
    showSendToCloud: false,
    plotlyServerURL: '',
    modeBarButtonsToRemove: ['sendChartToCloud'],
  };

  // Debiased EMA by weight (the slider's), held between the min and max of the values so far like
  // smoothSeries (src/charts/smoothing.ts): a constant series stays exactly constant.
  function ema(values: (number | null)[], w: number): (number | null)[] {
    if (!(w > 0)) return values.slice();
    let last = 0;
    let n = 0;
    let lo = Infinity;
    let hi = -Infinity;
    return values.map((y) => {
      if (typeof y !== 'number' || !isFinite(y)) return null;
      last = last * w + (1 - w) * y;
      n++;
      lo = Math.min(lo, y);
      hi = Math.max(hi, y);
      return Math.min(hi, Math.max(lo, last / (1 - Math.pow(w, n))));
    });
  }

  function visibility(fig: PageFigure, group: string | undefined): boolean[] | undefined {
    if (!fig.groups || group === undefined) return undefined;
    return fig.groups.map((g) => g === null || group === ALL || g === group);
  }

  /** A 3-D scene crops its sides in a narrow box: step the camera back in proportion, less height. */
  function fitScene(layout: Record<string, any>, width: number): Record<string, unknown> {
    const eye = layout.scene?.camera?.eye;
    if (!eye || !(width > 0) || width >= 640) return layout;
    const k = Math.pow(600 / width, 0.6);
    const camera = Object.assign({}, layout.scene.camera, {
      eye: { x: eye.x * k, y: eye.y * k, z: eye.z * k },
    });
    const height = Math.min(layout.height ?? 500, Math.max(340, Math.round(width * 1.05)));
    return Object.assign({}, layout, { height, scene: Object.assign({}, layout.scene, { camera }) });
  }

  /** The figure's traces as drawn now: shared x, log colour, selected group, smoothing. */
  function tracesOf(id: string): Record<string, unknown>[] {
    const fig = figures[id];
    const data = fig.data.map((trace) => Object.assign({}, trace));
    for (const trace of data) {
      if (typeof trace.xFrom === 'number') trace.x = data[trace.xFrom].x;
      if (fig.logColor && trace.type === 'heatmap')
        trace.z = (trace.customdata as (number | null)[][]).map((row) =>
          row.map((v) => (typeof v === 'number' && v > 0 ? Math.log10(v) : null)),
        );
    }
    const visible = visibility(fig, selected.get(id));
    if (visible) data.forEach((trace, i) => (trace.visible = visible[i]));
    for (const pair of fig.smooth ?? []) data[pair.target].y = ema(data[pair.source].y as number[], weight);
    return data;
  }

  function isMap(id: string): boolean {
    return figures[id].data.some((trace) => trace.type === 'scatter3d');
  }

  /** The figure's layout at the element's width; the element takes its height. */
  function layoutFor(el: HTMLElement): Record<string, unknown> {
    const fig = figures[el.dataset.figure!];
    const layout = fitScene(fig.layout, el.clientWidth);
    if (layout.height !== fig.layout.height) el.style.height = `${layout.height}px`;
    return layout;
  }

  /** Draws a figure (a 3-D map: its preview); resolves once it is first on screen. */
  function render(el: HTMLElement): Promise<unknown> {
    const id = el.dataset.figure!;
    const existing = rendering.get(id);
    if (existing) return existing;
    el.classList.remove('pending');
    const drawn = (
      isMap(id)
        ? drawPreview(el)
        : plotly().then((Plotly) => Plotly.newPlot(el, tracesOf(id), layoutFor(el), config))
    ).then(() => afterPaint(() => markDrawn(id)));
    rendering.set(id, drawn);
    return drawn;
  }

  /**
   * A 3-D map's still preview (no WebGL), with a hint; pressing, focusing or resting the pointer
   * on it makes it the interactive map.
   */
  function drawPreview(el: HTMLElement): Promise<unknown> {
    const id = el.dataset.figure!;
    let canvas = el.querySelector<HTMLCanvasElement>('canvas.scene-preview');
    if (!canvas) {
      canvas = document.createElement('canvas');
      canvas.className = 'scene-preview';
      canvas.tabIndex = 0;
      canvas.setAttribute('role', 'button');
      canvas.setAttribute('aria-label', 'Preview of the 3-D map: press to rotate it and read values');
      const hint = document.createElement('button');
      hint.type = 'button';
      hint.className = 'scene-hint';
      hint.textContent = 'Preview · click to rotate and read values';
      el.append(canvas, hint);
      let intent: ReturnType<typeof setTimeout> | undefined;
      const stop = (): void => {
        if (intent !== undefined) clearTimeout(intent);
        intent = undefined;
      };
      const go = (): void => {
        stop();
        void makeInteractive(el);
      };
      el.addEventListener('pointerdown', go);
      el.addEventListener('focusin', go);
      el.addEventListener('pointermove', () => {
        if (intent === undefined && !interactive.has(id)) intent = setTimeout(go, HOVER_INTENT_MS);
      });
      el.addEventListener('pointerleave', stop);
      el.addEventListener('wheel', stop, { passive: true });
    }
    const drawing = (previewDrawing.get(id) ?? 0) + 1;
    previewDrawing.set(id, drawing);
    return preview.draw(canvas, {
      data: tracesOf(id),
      layout: layoutFor(el),
      width: el.clientWidth,
      atOnce: printing,
      superseded: () => previewDrawing.get(id) !== drawing || interactive.has(id),
    });
  }

  /** Plotly's WebGL scene in place of the preview: rotation, hover, legend, modebar. */
  function makeInteractive(el: HTMLElement): Promise<unknown> {
    const id = el.dataset.figure!;
    const existing = interactive.get(id);
    if (existing) return existing;
    const hint = el.querySelector<HTMLElement>('.scene-hint');
    if (hint) hint.textContent = 'Loading the interactive map…';
    // Creating the scene blocks the page (a second or more in software WebGL): paint the notice first.
    const done = Promise.all([plotly(), render(el)])
      .then(([Plotly]) => afterPaint(() => undefined).then(() => Plotly))
      .then((Plotly) => Plotly.newPlot(el, tracesOf(id), layoutFor(el), config))
      .then(() => {
        for (const node of Array.from(el.querySelectorAll('.scene-preview, .scene-hint'))) node.remove();
        if (typeof performance.mark === 'function') performance.mark(`runlens:interactive:${id}`);
      });
    interactive.set(id, done);
    return done;
  }

  /** `f` after the browser has painted (a frame, then a task); at most ~100 ms later without frames. */
  function afterPaint(f: () => void): Promise<void> {
    return new Promise((resolve) => {
      let ran = false;
      const go = (): void => {
        if (ran) return;
        ran = true;
        setTimeout(() => {
          f();
          resolve();
        }, 0);
      };
      requestAnimationFrame(go);
      setTimeout(go, 100);
    });
  }

  /** A performance mark per figure when it is first on screen (bench/report-start.js reads them). */
  function markDrawn(id: string): void {
    if (typeof performance.mark === 'function') performance.mark(`runlens:drawn:${id}`);
  }

  function restyleGroup(id: string): void {
    const el = document.querySelector<HTMLElement>(`[data-figure="${id}"]`);
    if (!el || !rendering.has(id)) return;
    const fig = figures[id];
    const visible = visibility(fig, selected.get(id));
    if (!visible) return;
    if (isMap(id) && !interactive.has(id)) {
      void drawPreview(el);
      return;
    }
    void (interactive.get(id) ?? rendering.get(id)!).then(() =>
      plotly().then((Plotly) =>
        Plotly.restyle(el, { visible }).then(() =>
          fig.autorangeOnSelect
            ? Plotly.relayout(el, { 'xaxis.autorange': true, 'yaxis.autorange': 'reversed' })
            : undefined,
        ),
      ),
    );
  }

  /** A caption that counts the figure's points says how many the selection shows. */
  function recount(id: string): void {
    const caption = document.querySelector<HTMLElement>(`[data-count-for="${id}"]`);
    if (!caption) return;
    const fig = figures[id];
    const visible = visibility(fig, selected.get(id));
    let points = 0;
    fig.data.forEach((trace, i) => {
      if (!visible || visible[i]) points += ((trace.x as unknown[] | undefined) ?? []).length;
    });
    const group = selected.get(id);
    caption.textContent =
      points.toLocaleString('en-US') +
      (caption.dataset.countText ?? '') +
      (group !== undefined && group !== ALL ? ` (${group})` : '');
  }

  function select(targets: string[], group: string): void {
    for (const id of targets) {
      selected.set(id, group);
      restyleGroup(id);
      recount(id);
    }
  }

  for (const box of Array.from(document.querySelectorAll<HTMLElement>('[data-targets]'))) {
    const targets = box.dataset.targets!.split(' ');
    const initial = box.dataset.initial ?? ALL;
    for (const id of targets) selected.set(id, initial);
    if (box instanceof HTMLSelectElement) {
      box.value = initial;
      box.addEventListener('change', () => select(targets, box.value));
      continue;
    }
    const buttons = Array.from(box.querySelectorAll<HTMLButtonElement>('button[data-group]'));
    for (const button of buttons) {
      button.setAttribute('aria-pressed', String(button.dataset.group === initial));
      button.addEventListener('click', () => {
        for (const b of buttons) b.setAttribute('aria-pressed', String(b === button));
        select(targets, button.dataset.group!);
      });
    }
  }

  const slider = document.getElementById('smoothing') as HTMLInputElement | null;
  const sliderText = document.getElementById('smoothing-value');
  function showWeight(): void {
    if (sliderText) sliderText.textContent = weight > 0 ? `EMA ${weight.toFixed(2)}` : 'none';
  }
  if (slider) {
    slider.value = String(weight);
    showWeight();
    slider.addEventListener('input', () => {
      weight = Number(slider.value);
      showWeight();
      for (const [id, done] of rendering) {
        const fig = figures[id];
        if (!fig.smooth?.length) continue;
        const el = document.querySelector<HTMLElement>(`[data-figure="${id}"]`)!;
        const ys = fig.smooth.map((pair) => ema(fig.data[pair.source].y as number[], weight));
        void Promise.all([plotly(), done]).then(([Plotly]) =>
          Plotly.restyle(
            el,
            { y: ys },
            fig.smooth!.map((pair) => pair.target),
          ),
        );
      }
    });
  }

  for (const table of Array.from(document.querySelectorAll<HTMLTableElement>('table.sortable'))) {
    const heads = Array.from(table.tHead!.rows[0].cells);
    heads.forEach((th, column) => {
      th.addEventListener('click', () => {
        const descending = th.getAttribute('aria-sort') !== 'descending';
        for (const other of heads) other.removeAttribute('aria-sort');
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
        const numeric = th.classList.contains('num');
        const body = table.tBodies[0];
        const key = (row: HTMLTableRowElement): string | number => {
          const cell = row.cells[column];
          const raw = cell.dataset.v ?? cell.textContent ?? '';
          if (!numeric) return raw;
          const value = Number(raw);
          return raw === '' || !isFinite(value) ? (descending ? -Infinity : Infinity) : value;
        };
        const rows = Array.from(body.rows).sort((a, b) => {
          const ka = key(a);
          const kb = key(b);
          const order = ka < kb ? -1 : ka > kb ? 1 : 0;
          return descending ? -order : order;
        });
        for (const row of rows) body.appendChild(row);
      });
    });
  }

  const plots = Array.from(document.querySelectorAll<HTMLElement>('[data-figure]'));
  function renderAll(): Promise<unknown[]> {
    for (const el of plots) render(el);
    return Promise.all(plots.map((el) => rendering.get(el.dataset.figure!)));
  }
  // Figures coming into view are drawn one per task, in page order, with the browser free to
  // paint and answer input in between (two 3-D maps drawn in one callback froze the page ~2 s).
  // Once none is waiting, Plotly is loaded (compiled off the main thread) for what comes next.
  const queue: HTMLElement[] = [];
  let pumping = false;
  function pump(): void {
    if (pumping) return;
    pumping = true;
    setTimeout(() => {
      const next = queue.shift();
      if (!next) {
        pumping = false;
        void plotly();
        return;
      }
      const then = (): void => {
        pumping = false;
        void afterPaint(pump);
      };
      void render(next).then(then, then);
    }, 0);
  }
  if ('IntersectionObserver' in window) {
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          observer.unobserve(entry.target);
          queue.push(entry.target as HTMLElement);
        }
        queue.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
        pump();
      },
      { rootMargin: '600px 0px' },
    );
    for (const el of plots) observer.observe(el);
  } else void renderAll();
  // A preview is drawn for one width: draw it again for a new one (the interactive map follows by itself).
  let resized: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener('resize', () => {
    if (resized !== undefined) clearTimeout(resized);
    resized = setTimeout(() => {
      for (const el of plots) {
        const id = el.dataset.figure!;
        if (rendering.has(id) && isMap(id) && !interactive.has(id)) void drawPreview(el);
      }
    }, 150);
  });
  // Printing does not wait: previews still to draw are drawn whole, in this task.
  window.addEventListener('beforeprint', () => {
    printing = true;
    void renderAll();
    printing = false;
  });
  win.runlensReport = {
    renderAll,
    rendered: (id: string) => rendering.get(id),
    ready: new Promise((resolve) => setTimeout(resolve, 0)).then(() =>
      Promise.all(Array.from(rendering.values())),
    ),
  };
}

/**
 * The script element's text: the preview and the function above, run at once; Plotly's inline
 * source (a `text/plain` element, so the HTML parser does not run it) is loaded when the page first
 * asks for it, from a blob: URL, so it is compiled off the main thread. Where a blob: script cannot
 * load, the source runs as an inline script instead.
 */
export function clientScript(): string {
  return `(function () {
  var preview = (${scenePreview.toString()})((${sceneAxes.toString()})());
  var start = ${reportClient.toString()};
  var source = document.getElementById('runlens-plotly');
  var loading;
  function loadPlotly() {
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var done = function () {
        if (window.Plotly) resolve(window.Plotly);
        else reject(new Error('runlens: Plotly did not load'));
      };
      if (window.Plotly || !source) return done();
      var inline = function () {
        var script = document.createElement('script');
        script.text = source.textContent;
        document.head.appendChild(script);
        done();
      };
      var url = URL.createObjectURL(new Blob([source.textContent], { type: 'text/javascript' }));
      var script = document.createElement('script');
      script.onload = function () { URL.revokeObjectURL(url); done(); };
      script.onerror = function () { URL.revokeObjectURL(url); inline(); };
      script.src = url;
      document.head.appendChild(script);
    });
    return loading;
  }
  start(preview, loadPlotly);
})();`;
}
