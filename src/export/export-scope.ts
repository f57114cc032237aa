import { cleanDuckDbMessage } from '../analysis/duckdb-message.js';
import { eventFilters } from '../analysis/filters.js';
import { checkTasks, requireUidColumn } from '../analysis/run-columns.js';
import type { Run } from '../engine/run.js';
import { ident, join, lit, sql, trusted, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import { blacklistCondition } from './blacklist.js';
import { exportColumns, type ExportColumns } from './export-columns.js';
import type { ExportMode, ExportOptions } from './export-options.js';
import { createExportViews } from './export-views.js';

/** What an export of one run reads: its columns and its filters split by level. */
export interface ExportScope {
  columns: ExportColumns;
  /** Conditions on the event (valid over both export views). */
  eventLevel: Sql[];
  /** Conditions on an (event, uid) row; in per-event exports they select the list entries kept. */
  uidLevel: Sql[];
  /** Same as uidLevel without the blacklist (for counting what the blacklist removes). */
  uidLevelBeforeBlacklist: Sql[];
}

/**
 * Creates the export views of a run (the session must preserve insertion order) and turns the
 * options into conditions; `since` (file id → first record) leaves out records exported before.
 */
export async function exportScope(
  run: Run,
  options: ExportOptions,
  mode: ExportMode,
  phrases: readonly string[] | undefined,
  since: ReadonlyMap<number, number> = new Map(),
): Promise<ExportScope> {
  await createExportViews(run);
  const columns = exportColumns(run, (await run.fieldCatalog()).fields);
  await checkTasks(run, options.task);
  const eventLevel = eventFilters(options);
  if ([...since.values()].some((rec) => rec > 0))
    eventLevel.push(
      sql`rec >= CASE file_id ${join(
        [...since].map(([f, r]) => sql`WHEN ${lit(f)} THEN ${lit(r)}`),
        ' ',
      )} ELSE 0 END`,
    );
  const uidLevel: Sql[] = [];
  const needs = (column: string, what: string) => requireUidColumn(run, column, what);
  if (mode === 'uid-rows') needs('uid', '--explode');
  if (mode === 'mining' || mode === 'openai') {
    needs('completions', `--${mode}`);
    needs('rewards', `--${mode}`);
    if (!run.columns.scalars.has('prompt'))
      throw new UserError(`--${mode} needs a prompt field, which this ${run.profile} run does not have`, {
        hint: "it pairs each event's prompt with its best completion (OpenValidators logs)",
      });
  }
  if (options.uids?.length) {
    needs('uid', '--uids');
    uidLevel.push(sql`uid IN (${options.uids.map((u) => lit(u))})`);
  }
  if (options.minReward !== undefined) {
    needs('rewards', '--min-reward');
    uidLevel.push(sql`isfinite(rewards) AND rewards >= ${lit(options.minReward)}`);
  }
  if (options.where !== undefined) {
    const where = trusted(options.where);
    ((await bindsToEvents(run, columns, options.where, mode)) ? eventLevel : uidLevel).push(where);
  }
  const uidLevelBeforeBlacklist = [...uidLevel];
  if (phrases?.length) {
    needs('completions', '--blacklist');
    uidLevel.push(blacklistCondition(phrases));
  }
  return { columns, eventLevel, uidLevel, uidLevelBeforeBlacklist };
}

/**
 * Does a `--where` expression bind against the events (then it selects events) rather than the
 * per-uid rows (then it selects uids)? Per-uid exports always take it per uid. A bad expression
 * is a UserError with DuckDB's message and the columns there are.
 */
async function bindsToEvents(
  run: Run,
  columns: ExportColumns,
  where: string,
  mode: ExportMode,
): Promise<boolean> {
  const statements = await run.session.connection
    .extractStatements(`SELECT 1 WHERE ${where}`)
    .catch(() => undefined);
  if (statements !== undefined && statements.count !== 1)
    throw new UserError(`--where "${where}" must be one SQL expression`, { hint: 'leave out ";"' });
  const binds = async (relation: Sql): Promise<string | undefined> => {
    try {
      await run.session.run(
        sql`SELECT count(*) FROM (SELECT * FROM ${relation} LIMIT 0) WHERE (${trusted(where)})`.text,
      );
      return undefined;
    } catch (error) {
      return cleanDuckDbMessage(error);
    }
  };
  // Over the events, the per-uid vectors are left out: `rewards > 0.5` means each uid's reward.
  const perUid = columns.lists.filter((c) => c.perUid && c.name !== 'uids').map((c) => ident(c.name));
  const events = perUid.length ? sql`(SELECT * EXCLUDE (${perUid}) FROM export_events)` : sql`export_events`;
  if (mode === 'events' && (await binds(events)) === undefined) return true;
  const uidError = await binds(sql`export_uid_events`);
  if (uidError === undefined) return false;
  const vectors = columns.vectors.map((c) => c.name);
  throw new UserError(`--where "${where}": ${uidError}`, {
    hint:
      `columns: ${[...columns.scalars.map((c) => c.name), 'x', 'ord', 'task'].map(showColumn).join(', ')}` +
      (vectors.length ? `; per-uid: ${vectors.map(showColumn).join(', ')}` : '') +
      ' (quote dotted names: "rewards.total"; text values in single quotes)',
  });
}

function showColumn(name: string): string {
  return /^[a-z_][a-z0-9_]*$/i.test(name) ? name : ident(name).text;
}
