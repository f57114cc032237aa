import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { FONT_FAMILY, fontFiles } from './fonts.js';
import { setPngDpi } from './png-resolution.js';
import type { PngAnswer, PngRequest } from './png-worker.js';
import { UNITS_PER_INCH } from './theme.js';

export interface RenderPngOptions {
  /** Dots per inch; the SVG is in points (72 per inch). Default 300. */
  dpi?: number;
}

export const DEFAULT_DPI = 300;

/**
 * Vega writes `image-rendering: optimizeSpeed; image-rendering: pixelated;` for unsmoothed images;
 * resvg does not know `pixelated` and lets it cancel `optimizeSpeed`, smoothing heatmap cells.
 */
const PIXELATED_DECLARATION = /\s*image-rendering:\s*pixelated;?/g;

/**
 * SVG → PNG with resvg, using only the bundled DejaVu fonts (never system fonts, so the output is
 * the same on every machine), scaled to `dpi` and declaring it in a pHYs chunk.
 */
export function renderPng(svg: string, options: RenderPngOptions = {}): Buffer {
  const dpi = checkedDpi(options);
  const resvg = new Resvg(svg.replace(PIXELATED_DECLARATION, ''), resvgOptions(dpi));
  return setPngDpi(resvg.render().asPng(), dpi);
}

/**
 * renderPng off this thread: the same bytes, while this thread goes on (e.g. to the next chart's
 * SVG). Parsing, rasterising and PNG encoding run on PNG worker threads shared by every call and
 * started on the first; where the compiled worker is not there (tests run the TypeScript
 * sources), resvg rasterises on libuv's thread pool and encodes on this thread.
 */
export async function renderPngAsync(svg: string, options: RenderPngOptions = {}): Promise<Buffer> {
  const dpi = checkedDpi(options);
  const threads = pngThreads();
  if (!threads) {
    const image = await renderAsync(svg.replace(PIXELATED_DECLARATION, ''), resvgOptions(dpi));
    return setPngDpi(image.asPng(), dpi);
  }
  const idlest = threads.reduce((a, b) => (b.load < a.load ? b : a));
  return idlest.render(svg, dpi);
}

const PNG_WORKER_URL = new URL('./png-worker.js', import.meta.url);

/**
 * PNG threads: two where there are two cores. `plot` of a 5 MB FileTAO run (10 charts, 2 vCPUs)
 * took 3.0–3.5 s with two, 3.9–4.2 s with one, 3.9–4.2 s on libuv's thread pool (with the PNG
 * encoding on the main thread): the main thread's Vega work and one thread's rasterising take about
 * as long, and with two the rasterising catches up while the main thread waits less.
 */
const PNG_THREADS = Math.max(1, Math.min(2, os.availableParallelism()));

let shared: PngThread[] | undefined;
let workerMissing: boolean | undefined;

/** The PNG worker threads, or undefined where their compiled module is missing. */
function pngThreads(): PngThread[] | undefined {
  workerMissing ??= !fs.existsSync(fileURLToPath(PNG_WORKER_URL));
  if (workerMissing) return undefined;
  shared ??= Array.from({ length: PNG_THREADS }, () => new PngThread());
  return shared;
}

/** Whether renderPngAsync renders on PNG worker threads here (false when tests run the sources). */
export function pngRendersOnWorkers(): boolean {
  return pngThreads() !== undefined;
}

/**
 * One worker thread that renders PNGs in the order asked. It holds the process open only while a
 * render is pending. If it dies, its pending renders fail with its error and the next render
 * starts another.
 */
class PngThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<
    number,
    { resolve: (png: Buffer) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;

  /** Renders waiting on this thread. */
  get load(): number {
    return this.pending.size;
  }

  render(svg: string, dpi: number): Promise<Buffer> {
    const id = this.nextId++;
    const worker = (this.worker ??= this.start());
    return new Promise<Buffer>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, svg, dpi } satisfies PngRequest);
    });
  }

  private start(): Worker {
    const worker = new Worker(PNG_WORKER_URL);
    worker.unref();
    worker.on('message', (answer: PngAnswer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in answer) waiting.reject(new Error(`PNG rendering failed: ${answer.error}`));
      else waiting.resolve(Buffer.from(answer.png.buffer, answer.png.byteOffset, answer.png.byteLength));
    });
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      this.worker = undefined;
      for (const w of waiting) w.reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the PNG worker thread stopped (exit code ${code})`)));
    return worker;
  }
}
function checkedDpi(options: RenderPngOptions): number {
  const dpi = options.dpi ?? DEFAULT_DPI;
  if (!(Number.isFinite(dpi) && dpi > 0)) {
    throw new RangeError(`renderPng: dpi must be a positive number, got ${dpi}`);
  }
  return dpi;
}

function resvgOptions(dpi: number): ResvgRenderOptions {
  return {
    fitTo: { mode: 'zoom', value: dpi / UNITS_PER_INCH },
    font: {
      loadSystemFonts: false,
      fontFiles: [fontFiles.regular, fontFiles.bold],
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
  };
}
