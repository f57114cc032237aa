/** Number formatting for titles and captions: 12,345 or 1.23e+9 style, never "NaN". */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1e12) return value.toExponential(2);
  return Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export interface RunCaption {
  rows: number;
  files: number;
  xLabel: string;
  xMin: number | null;
  xMax: number | null;
}

/** "12,345 rows · 4 files · total_steps 0 … 65,536" */
export function runCaption(c: RunCaption, extra: string[] = []): string {
  return [
    `${formatCount(c.rows)} rows`,
    `${c.files} file${c.files === 1 ? '' : 's'}`,
    `${c.xLabel} ${formatCount(c.xMin)} … ${formatCount(c.xMax)}`,
    ...extra,
  ].join(' · ');
}
