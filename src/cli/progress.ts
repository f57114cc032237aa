import { formatBytes } from '../format-bytes.js';
import type { IngestProgress } from '../engine/ingest.js';

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

/** Per-file progress (files done, bytes, rate) on stderr when it is a terminal. */
export function fileProgress(totalBytes: number, stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let drawn = false;
  /** One line: what is done, the rate over the share of `totalBytes` done, the time left. */
  const draw = (what: string, share: number): void => {
    if (!stream.isTTY) return;
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    const eta = share > 0 ? (seconds / share) * (1 - share) : NaN;
    stream.write(
      `\r\x1b[K${what} · ${formatBytes((totalBytes * share) / seconds)}/s` +
        (Number.isFinite(eta) && share < 1 ? ` · ETA ${Math.ceil(eta)} s` : ''),
    );
    drawn = true;
  };
  return {
    onFileDone(done: number, count: number): void {
      draw(`file ${done}/${count} of ${formatBytes(totalBytes)}`, done / count);
    },
    /** Bytes read so far (the validator scan reports byte ranges as they are merged). */
    onBytes(done: number): void {
      draw(`${formatBytes(done)} of ${formatBytes(totalBytes)}`, totalBytes > 0 ? done / totalBytes : 1);
    },
    done(): void {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
