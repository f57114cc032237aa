/** What kind of container a log file is; `gzip` means the bytes are gzip-compressed. */
export type Container = 'jsonl' | 'json' | 'csv';

export interface LogFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the run root, for messages and summaries. */
  name: string;
  container: Container;
  gzip: boolean;
  bytes: number;
}

export interface IgnoredFile {
  path: string;
  name: string;
  reason: string;
}

const CONTAINERS: Record<string, Container> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.log': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
};

/** Classifies a file name by extension (`.gz` allowed on top); undefined when it is not a log we read. */
export function containerOf(fileName: string): { container: Container; gzip: boolean } | undefined {
  // Hidden files (.bench-complete.json, editor swap files) are not logs.
  if (fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1).startsWith('.'))
    return undefined;
  const lower = fileName.toLowerCase();
  const gzip = lower.endsWith('.gz');
  // A rotated member (`events.json.3`, `events.json.3.gz`) reads like its live file.
  const base = (gzip ? lower.slice(0, -3) : lower).replace(/\.\d+$/, '');
  const dot = base.lastIndexOf('.');
  if (dot < 0) return undefined;
  const container = CONTAINERS[base.slice(dot)];
  return container === undefined ? undefined : { container, gzip };
}
