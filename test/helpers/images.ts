import { spawnSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import { convertIndexedToRgb, decode } from 'fast-png';

export interface Pixels {
  width: number;
  height: number;
  /** RGBA (or RGB) of pixel (x, y). */
  at(x: number, y: number): number[];
}

/** Decodes PNG bytes (checking every chunk CRC) into a pixel reader. */
export function readPixels(png: Uint8Array): Pixels {
  const image = decode(png, { checkCrc: true });
  const { width, height } = image;
  const data = image.palette ? convertIndexedToRgb(image) : image.data;
  const channels = image.palette ? data.length / (width * height) : image.channels;
  return {
    width,
    height,
    at: (x, y) => Array.from(data.subarray((y * width + x) * channels, (y * width + x + 1) * channels)),
  };
}

/** Count of pixels in the rectangle whose R, G and B are all below `threshold`. */
export function countDarkPixels(pixels: Pixels, box: Box, threshold: number): number {
  let count = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const [r, g, b] = pixels.at(x, y);
      if (r < threshold && g < threshold && b < threshold) count++;
    }
  }
  return count;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Position of the first `<image>` in a Vega SVG, in SVG units: the sum of the `translate()`s of
 * its enclosing groups and its own.
 */
export function svgImageBox(svg: string): Box {
  const offsets: Array<[number, number]> = [];
  for (const tag of svg.matchAll(/<(\/?)(g|image)\b([^>]*)>/g)) {
    const [, closing, name, attributes] = tag;
    if (name === 'g' && closing) {
      offsets.pop();
      continue;
    }
    const translate = /transform="translate\(([-\d.]+),([-\d.]+)\)"/.exec(attributes);
    const offset: [number, number] = translate ? [Number(translate[1]), Number(translate[2])] : [0, 0];
    if (name === 'g') {
      offsets.push(offset);
      continue;
    }
    const x = offsets.reduce((sum, [dx]) => sum + dx, offset[0]);
    const y = offsets.reduce((sum, [, dy]) => sum + dy, offset[1]);
    const width = Number(/\swidth="([\d.]+)"/.exec(attributes)?.[1]);
    const height = Number(/\sheight="([\d.]+)"/.exec(attributes)?.[1]);
    return { x, y, width, height };
  }
  throw new Error('no <image> in SVG');
}

/** Every FlateDecode stream of a PDF, inflated, concatenated as latin1 text. */
export function inflatedPdfStreams(pdf: Buffer): string {
  const text = pdf.toString('latin1');
  const parts: string[] = [];
  for (const match of text.matchAll(/stream\r?\n/g)) {
    const start = match.index + match[0].length;
    const end = text.indexOf('endstream', start);
    try {
      parts.push(inflateSync(pdf.subarray(start, end)).toString('latin1'));
    } catch {
      // not a deflated stream (or trailing newline only) — skip
    }
  }
  return parts.join('\n');
}

/** Whether a command-line tool (e.g. pdftoppm from poppler-utils) can be run. */
export function hasTool(command: string): boolean {
  return spawnSync(command, ['-v'], { stdio: 'ignore' }).error === undefined;
}
