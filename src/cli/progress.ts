import { formatBytes } from '../format-bytes.js';
import type { IndexProgress as IngestProgress } from '../engine/run-index.js';

/** Live progress on stderr (files, bytes, rows, rate, ETA) — only when stderr is a terminal. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): {
  onProgress?: (p: IngestProgress) => void;
  done(): void;
} {
  if (!stream.isTTY) return { done() {} };
  const start = Date.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    onProgress(p) {
      const now = Date.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      const seconds = (now - start) / 1000;
      const rate = seconds > 0 ? p.bytesDone / seconds : 0;
      const eta = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : NaN;
      const line =
        `file ${p.fileIndex + 1}/${p.fileCount} ${p.fileName} · ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` +
        ` · ${p.rows.toLocaleString('en-US')} rows · ${formatBytes(rate)}/s` +
        (Number.isFinite(eta) ? ` · ETA ${Math.ceil(eta)} s` : '');
      stream.write(`\r\x1b[K${line.slice(0, (stream.columns ?? 120) - 1)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3
    ? value.toExponential(3)
    : String(+value.toFixed(4));
}
