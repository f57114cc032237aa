import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The one font family every runlens chart uses, in SVG, PNG and PDF alike. */
export const FONT_FAMILY = 'DejaVu Sans';

/** Absolute paths of the DejaVu Sans TTFs shipped in the `dejavu-fonts-ttf` npm package. */
export const fontFiles = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
} as const;
