import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { fontFiles } from './fonts.js';

/** Fixed so the same chart gives byte-identical PDFs (pdfkit derives the file ID from it too). */
const FIXED_CREATION_DATE = new Date(Date.UTC(2000, 0, 1));

const REGULAR = 'DejaVuSans';
const BOLD = 'DejaVuSans-Bold';

export interface RenderPdfOptions {
  /** Document title stored in the PDF metadata. */
  title?: string;
  /** Receives svg-to-pdfkit's warnings about SVG features it skipped; ignored by default. */
  onWarning?: (message: string) => void;
}

/**
 * SVG → vector PDF (pdfkit + svg-to-pdfkit), one page exactly the SVG's size in points, every
 * text in embedded DejaVu Sans: pdfkit's built-in Helvetica cannot encode Vega's minus sign (U+2212)
 * and would silently print "−2" as "2".
 */
export function renderPdf(svg: string, options: RenderPdfOptions = {}): Promise<Buffer> {
  const { width, height } = svgSize(svg);
  const doc = new PDFDocument({
    size: [width, height],
    margin: 0,
    autoFirstPage: true,
    info: {
      Creator: 'runlens',
      Producer: 'runlens (pdfkit)',
      CreationDate: FIXED_CREATION_DATE,
      ...(options.title === undefined ? {} : { Title: options.title }),
    },
  });
  doc.registerFont(REGULAR, fontFiles.regular);
  doc.registerFont(BOLD, fontFiles.bold);
  doc.font(REGULAR);

  const chunks: Buffer[] = [];
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  SVGtoPDF(doc, withNamedBoldWeights(svg), 0, 0, {
    width,
    height,
    assumePt: true,
    fontCallback: (_family, bold, _italic, fontOptions) => {
      fontOptions.fauxItalic = _italic;
      return bold ? BOLD : REGULAR;
    },
    warningCallback: options.onWarning ?? (() => {}),
  });
  doc.end();
  return finished;
}

/** svg-to-pdfkit only recognises `font-weight="bold"`; Vega may write numeric weights. */
function withNamedBoldWeights(svg: string): string {
  return svg.replace(/font-weight="(?:[6-9]00|bolder)"/g, 'font-weight="bold"');
}

function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  const width = Number(/\swidth="([\d.]+)"/.exec(root ?? '')?.[1]);
  const height = Number(/\sheight="([\d.]+)"/.exec(root ?? '')?.[1]);
  if (!(width > 0 && height > 0)) {
    throw new Error(
      `renderPdf: expected an <svg> root with numeric width and height, found ${root?.slice(0, 120) ?? 'no <svg> tag'}`,
    );
  }
  return { width, height };
}
