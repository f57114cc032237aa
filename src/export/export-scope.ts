import { cleanDuckDbMessage } from '../analysis/duckdb-message.js';
import { eventConditions } from '../analysis/filters.js';
import {
  checkTasks,
  columnTypes,
  hasUidRows,
  requireUidColumn,
  scalarColumns,
  uidColumns,
} from '../analysis/run-columns.js';
import type { Run } from '../engine/run.js';
import { quoteIdentifier } from '../engine/session.js';
import { UserError } from '../errors.js';
import { blacklistCondition } from './blacklist.js';
import { exportColumns, type ExportColumn } from './export-columns.js';
import type { ExportMode, ExportOptions } from './export-options.js';

/** The views an export reads in a run's session, and its filters split by level. */
export interface ExportScope {
  /** One row per event: the scalars plus file_id, rec, ord, x, task. */
  events: 'export_events';
  /** One row per (event, uid): the event's scalars, uid, pos and the per-uid vectors. */
  uidEvents: 'export_uid_events';
  scalars: ExportColumn[];
  vectors: ExportColumn[];
  /** Conditions on the event (valid over both views). */
  eventLevel: string[];
  /** Conditions on a (event, uid) row; in per-event exports they select the list entries kept. */
  uidLevel: string[];
  /** Same as uidLevel without the blacklist (for counting what the blacklist removes). */
  uidLevelBeforeBlacklist: string[];
  hasUidRows: boolean;
}

export async function exportScope(
  run: Run,
  options: ExportOptions,
  mode: ExportMode,
  phrases: readonly string[] | undefined,
): Promise<ExportScope> {
  const { scalars, vectors } = exportColumns(run, columnTypes(run, 'rows'), (await run.fieldCatalog()).fields);
  const withUidRows = hasUidRows(run);
  const s = run.session;
  await s.run(`CREATE OR REPLACE TEMP VIEW export_events AS SELECT * EXCLUDE (line) FROM events`);
  const clashes = scalarColumns(run).filter((c) => !scalars.some((k) => k.name === c));
  await s.run(
    withUidRows
      ? `CREATE OR REPLACE TEMP VIEW export_uid_events AS
         SELECT e.* EXCLUDE (${['line', ...clashes].map(quoteIdentifier).join(', ')}), u.* EXCLUDE (${['file_id', 'rec', 'line'].map(quoteIdentifier).join(', ')})
         FROM uid_rows u JOIN events e USING (file_id, rec)`
      : `CREATE OR REPLACE TEMP VIEW export_uid_events AS
         SELECT *, CAST(NULL AS INTEGER) AS uid, CAST(NULL AS INTEGER) AS pos FROM export_events WHERE false`,
  );
  await checkTasks(run, options.task);
  const eventLevel = eventConditions(options);
  const uidLevel: string[] = [];
  const needs = (column: string, what: string) => requireUidColumn(run, column, what);
  if (mode === 'uid-rows') needs('uid', '--explode');
  if (mode === 'mining' || mode === 'openai') {
    needs('completions', `--${mode}`);
    needs('rewards', `--${mode}`);
    if (!run.storedColumns('rows').has('prompt'))
      throw new UserError(`--${mode} needs a prompt field, which this ${run.profile} run does not have`, {
        hint: "it pairs each event's prompt with its best completion (OpenValidators logs)",
      });
  }
  if (options.uids?.length) {
    needs('uid', '--uids');
    uidLevel.push(`uid IN (${options.uids.join(', ')})`);
  }
  if (options.minReward !== undefined) {
    needs('rewards', '--min-reward');
    uidLevel.push(`isfinite(rewards) AND rewards >= ${options.minReward}`);
  }
  if (options.where !== undefined) {
    const level = await whereLevel(run, options.where, mode);
    (level === 'event' ? eventLevel : uidLevel).push(options.where);
  }
  const uidLevelBeforeBlacklist = [...uidLevel];
  if (phrases?.length) {
    needs('completions', '--blacklist');
    uidLevel.push(blacklistCondition(phrases));
  }
  return {
    events: 'export_events',
    uidEvents: 'export_uid_events',
    scalars,
    vectors,
    eventLevel,
    uidLevel,
    uidLevelBeforeBlacklist,
    hasUidRows: withUidRows,
  };
}

/**
 * Which view a `--where` expression binds against: the events (then it selects events) or the
 * per-uid rows (then it selects uids). A bad expression is a UserError with DuckDB's message and
 * the columns there are.
 */
async function whereLevel(run: Run, where: string, mode: ExportMode): Promise<'event' | 'uid'> {
  const statements = await run.session.connection
    .extractStatements(`SELECT 1 WHERE ${where}`)
    .catch(() => undefined);
  if (statements !== undefined && statements.count !== 1)
    throw new UserError(`--where "${where}" must be one SQL expression`, { hint: 'leave out ";"' });
  const binds = async (view: string): Promise<string | undefined> => {
    try {
      await run.session.run(`SELECT count(*) FROM (SELECT * FROM ${view} LIMIT 0) WHERE (${where})`);
      return undefined;
    } catch (error) {
      return cleanDuckDbMessage(error);
    }
  };
  const eventError = mode === 'events' ? await binds('export_events') : 'per-uid';
  if (eventError === undefined) return 'event';
  const uidError = await binds('export_uid_events');
  if (uidError === undefined) return 'uid';
  const scalars = scalarColumns(run);
  const vectors = uidColumns(run);
  throw new UserError(`--where "${where}": ${uidError}`, {
    hint:
      `columns: ${[...scalars, 'x', 'ord', 'task'].map(showColumn).join(', ')}` +
      (vectors.length ? `; per-uid: ${vectors.map(showColumn).join(', ')}` : '') +
      ' (quote dotted names: "rewards.total"; text values in single quotes)',
  });
}

function showColumn(name: string): string {
  return /^[a-z_][a-z0-9_]*$/i.test(name) ? name : quoteIdentifier(name);
}
