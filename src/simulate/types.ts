/** What a simulation reports while it runs (at most a few times a second). */
export interface SimulateProgress {
  profile: string;
  files: number;
  bytes: number;
  records: number;
  targetBytes: number;
}

/** What a simulation wrote. `files` are absolute paths in the order they were written. */
export interface SimulateResult {
  profile: string;
  out: string;
  files: string[];
  bytes: number;
  records: number;
}

/** Shared inputs every profile receives. */
export interface ProfileContext {
  out: string;
  targetBytes: number;
  seed: number;
  /** Called after each flushed chunk with running totals; cheap to call often. */
  report(files: number, bytes: number, records: number): void;
}
