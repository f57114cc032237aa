import type { Run } from '../engine/run.js';
import type { IndexProgress, PartialInfo } from './api-types.js';

/**
 * What a run of the events indexed so far stands for: its events, the bytes read (what the index
 * held before this read, plus what this read has done) and the events the whole run should have
 * at the same number of events per byte.
 */
export function partialInfo(partial: Run, progress: IndexProgress | undefined): PartialInfo {
  const bytesTotal = partial.location.files.reduce((sum, f) => sum + f.bytes, 0);
  const toRead = Math.min(bytesTotal, progress?.bytesTotal ?? bytesTotal);
  const bytesRead = Math.min(bytesTotal, bytesTotal - toRead + (progress?.bytesDone ?? 0));
  const rows = partial.ingest.rows;
  const fraction = bytesTotal > 0 ? bytesRead / bytesTotal : 1;
  return {
    rows,
    estimatedRows: fraction > 0 ? Math.max(rows, Math.round(rows / fraction)) : rows,
    bytesRead,
    bytesTotal,
  };
}
