import { parentPort } from 'node:worker_threads';
import { renderPng } from './png.js';

/** A request to the PNG thread: one SVG to render at `dpi`, answered under the same `id`. */
export interface PngRequest {
  id: number;
  svg: string;
  dpi: number;
}

/** The PNG thread's answer: the PNG bytes, or the message of what went wrong. */
export type PngAnswer = { id: number; png: Uint8Array } | { id: number; error: string };

/** Worker entry: renders each SVG it is sent with renderPng (parse, raster and encode all here). */
parentPort?.on('message', ({ id, svg, dpi }: PngRequest) => {
  let answer: PngAnswer;
  try {
    answer = { id, png: renderPng(svg, { dpi }) };
  } catch (error) {
    answer = { id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(answer);
});
