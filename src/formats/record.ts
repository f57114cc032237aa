import type { ReadProblem } from './problems.js';

/** One record read from a log file, before normalisation. */
export interface SourceRecord {
  value: unknown;
  /** 1-based line the record starts on. */
  line: number;
}

export type ReportProblem = (problem: Omit<ReadProblem, 'file'>) => void;

/** Readers yield batches of records so per-record async overhead stays out of the hot loop. */
export type RecordBatches = AsyncGenerator<SourceRecord[], void, undefined>;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
