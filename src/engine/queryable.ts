import type { Profile } from '../formats/profile.js';
import type { Dialect } from './dialect.js';
import type { ViewColumns } from './index-views.js';
import type { QuerySession } from './session.js';
import type { XAxis } from './x-axis.js';

export type XRange = {
  min: number | null;
  max: number | null;
  integer: boolean;
};

/**
 * A run as the aggregates see it: its views, where they are queried (the run's DuckDB index, or a
 * ClickHouse fleet) and in which dialect, its columns and axis. `Run` is one; `FleetRun`
 * (src/fleet/fleet-run.ts) is the same run pushed to a fleet.
 */
export interface QueryableRun {
  readonly session: QuerySession;
  /** The session for the aggregates' queries (Run: slow queries' answers kept in the index). */
  readonly answers: QuerySession;
  readonly dialect: Dialect;
  readonly profile: Profile;
  readonly x: XAxis;
  readonly taskColumn: string | undefined;
  readonly columns: ViewColumns;
  readonly ingest: { rows: number; uidRows: number };
  /** Files of the run (as pushed, for a fleet's run). */
  readonly fileCount: number;
  storedColumns(table: 'rows' | 'uid_rows'): Set<string>;
  xRange(): Promise<XRange>;
  /** Files that hold at least one row. */
  filesWithRows(): Promise<number>;
}
