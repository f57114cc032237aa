// The results table (Markdown, so the same text goes into BENCHMARKS.md).

const COLUMNS = [
  { title: 'workload', value: (row) => row.workload },
  { title: 'input', value: (row) => mb(row.inputBytes) },
  { title: 'command', value: (row) => row.command },
  { title: 's', value: (row) => fixed(row.seconds, row.seconds < 10 ? 2 : 1), right: true },
  { title: 'MB/s', value: (row) => fixed(row.mbPerSecond, 0), right: true },
  { title: '× yardstick', value: (row) => fixed(row.ratio, 2), right: true },
  { title: 'peak RSS', value: (row) => mb(row.peakRssBytes), right: true },
  { title: 'CPU s', value: (row) => fixed(row.cpuSeconds, 1), right: true },
  { title: 'note', value: (row) => [row.note, outputs(row)].filter(Boolean).join('; ') },
];

function fixed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function outputs(row) {
  if (!row.outputFiles) return '';
  return `${row.outputFiles} file${row.outputFiles === 1 ? '' : 's'} written`;
}

function mb(bytes) {
  if (typeof bytes !== 'number') return '–';
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

/** A Markdown table of rows { workload, inputBytes, command, seconds, mbPerSecond, ratio, … }. */
export function formatTable(rows) {
  const cells = rows.map((row) => COLUMNS.map((column) => column.value(row)));
  const widths = COLUMNS.map((column, i) =>
    Math.max(column.title.length, ...cells.map((line) => line[i].length)),
  );
  const line = (values) =>
    `| ${values.map((value, i) => (COLUMNS[i].right ? value.padStart(widths[i]) : value.padEnd(widths[i]))).join(' | ')} |`;
  // The rule line as Prettier writes it, so the table can be pasted into Markdown files unchanged.
  const rule = line(
    widths.map((width, i) => (COLUMNS[i].right ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))),
  );
  return [line(COLUMNS.map((column) => column.title)), rule, ...cells.map(line)].join('\n');
}
