import type { AnalysisResult, CellValue } from './analysis-result.js';

/** Terminal cell text: numbers to at most 6 significant digits, text on one line, empty for null. */
function cellText(value: CellValue, type: 'number' | 'text', maxText: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return value.toLocaleString('en-US').replaceAll(',', '');
    return String(+value.toPrecision(6));
  }
  const flat = value.replace(/\s+/g, ' ');
  return type === 'text' && flat.length > maxText ? `${flat.slice(0, maxText - 1)}…` : flat;
}

/** An aligned text table: title, notes, header, rows (numbers right-aligned). */
export function formatTable(result: AnalysisResult, options: { maxText?: number } = {}): string {
  const maxText = options.maxText ?? 60;
  const header = result.columns.map((c) => c.name);
  const body = result.rows.map((row) => result.columns.map((c) => cellText(row[c.name], c.type, maxText)));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        result.columns[i].type === 'number' ? cell.padStart(widths[i]) : cell.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  const out = [result.title, ...result.notes.map((n) => `  ${n}`), '', line(header), ...body.map(line)];
  if (result.total !== undefined && result.total > result.rows.length)
    out.push(`(${result.rows.length} of ${result.total} rows)`);
  return `${out.join('\n')}\n`;
}

function csvCell(value: CellValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV with a header row (full texts, no truncation). */
export function formatCsv(result: AnalysisResult): string {
  const lines = [result.columns.map((c) => csvCell(c.name)).join(',')];
  for (const row of result.rows) lines.push(result.columns.map((c) => csvCell(row[c.name])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The result as JSON-ready data (no chart); non-finite numbers become null. */
export function resultJson(result: AnalysisResult, extra: Record<string, unknown> = {}): unknown {
  const { chart: _chart, ...rest } = result;
  return {
    ...extra,
    ...rest,
    rows: result.rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? null : v]),
      ),
    ),
  };
}
