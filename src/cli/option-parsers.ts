import { InvalidArgumentError } from 'commander';
import { CHART_FORMATS, type ChartFormat } from '../render/chart-formats.js';

// Parsers of command-line option values shared by the chart commands (cheap to load).

/** `png,svg` → ['png', 'svg']; rejects unknown formats. */
export function parseFormats(value: string): ChartFormat[] {
  const formats = value
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter(Boolean);
  for (const f of formats)
    if (!(CHART_FORMATS as readonly string[]).includes(f))
      throw new InvalidArgumentError(
        `unknown format "${f}"; expected ${CHART_FORMATS.join(', ')} (comma list ok).`,
      );
  return formats as ChartFormat[];
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}
