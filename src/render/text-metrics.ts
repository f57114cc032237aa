import PDFDocument from 'pdfkit';
import * as vega from 'vega';
import { fontFiles } from './fonts.js';

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
  ellipsis?: string;
  dir?: string;
}

interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

/** Vega exports its text measurer at runtime (vl-convert replaces it the same way); typings lack it. */
const textMetrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;

const MAX_CACHED_WIDTHS = 20_000;
const widthAtSizeOne = new Map<string, number>();
let measurer: PDFKit.PDFDocument | undefined;

/**
 * Makes Vega lay out text with the real advance widths of DejaVu Sans (the font every output is
 * drawn with) instead of its canvas-less guess of 0.8 em per character, which overestimates
 * DejaVu by about a third: legends and titles then waste space and axis labels get dropped.
 */
export function useDejaVuTextMetrics(): void {
  if (textMetrics.width !== dejaVuTextWidth) textMetrics.width = dejaVuTextWidth;
}

/** Width in points of `text` set in DejaVu Sans (Bold for weights ≥ 600 or "bold") at `fontSize`. */
export function dejaVuTextWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize == null ? 11 : Number(item.fontSize) || 0;
  const value = text == null ? '' : String(text).trim();
  if (size <= 0 || value === '') return 0;
  const bold = isBold(item.fontWeight);
  const key = `${bold ? 'b' : 'r'}${value}`;
  let width = widthAtSizeOne.get(key);
  if (width === undefined) {
    const doc = (measurer ??= createMeasurer());
    width = doc
      .font(bold ? 'bold' : 'regular')
      .fontSize(1)
      .widthOfString(value);
    if (widthAtSizeOne.size >= MAX_CACHED_WIDTHS) widthAtSizeOne.clear();
    widthAtSizeOne.set(key, width);
  }
  return width * size;
}

function isBold(weight: number | string | undefined): boolean {
  if (weight === 'bold' || weight === 'bolder') return true;
  return Number(weight) >= 600;
}

function createMeasurer(): PDFKit.PDFDocument {
  const doc = new PDFDocument({ autoFirstPage: false });
  doc.registerFont('regular', fontFiles.regular);
  doc.registerFont('bold', fontFiles.bold);
  return doc;
}
