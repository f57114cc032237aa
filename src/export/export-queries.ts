import { and, ident, join, lit, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import type { ExportColumn } from './export-columns.js';
import type { ExportMode } from './export-options.js';
import type { ExportScope } from './export-scope.js';
import { matchingPositions, UIDS_ARE_INTEGERS } from './export-views.js';

export interface RunContext {
  runIndex: number;
  /** The run's id when several runs are exported together (a `run_id` column). */
  runId?: string;
  /** Output columns to keep (`--columns`), by output name. */
  columns?: readonly string[];
}

/** Output names of a mode, for `--columns` and error messages. */
export function outputNames(scope: ExportScope, mode: ExportMode): string[] {
  const { scalars, lists, vectors } = scope.columns;
  return [...scalars, ...(mode === 'events' ? lists : vectors)].map((c) => c.name);
}

/** Checks `--columns` against what the run can export. */
export function checkColumns(
  scope: ExportScope,
  mode: ExportMode,
  columns: readonly string[] | undefined,
): void {
  if (!columns) return;
  const names = outputNames(scope, mode);
  const unknown = columns.filter((c) => !names.includes(c) && c !== 'run_id');
  if (unknown.length)
    throw new UserError(`--columns: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, {
      hint: `columns of this ${mode === 'events' ? 'per-event' : 'per-uid'} export: ${names.join(', ')}`,
    });
}

/**
 * One run's rows in file and record order: the output columns plus `_run`, `_ord`, `_pos` (the
 * row's place, for keeping the first of duplicates); for the presets, each prompt's best
 * completion in the run, with `_first` (the prompt's first ordinal). Reads the export views only
 * through projections, filters and unnest, so the order holds (see export-views.ts).
 */
export function runQuery(scope: ExportScope, mode: ExportMode, context: RunContext): Sql {
  const E = scope.eventLevel;
  const U = scope.uidLevel;
  const runId = context.runId === undefined ? sql`` : sql`${lit(context.runId)} AS run_id, `;
  const place = sql`${lit(context.runIndex)} AS _run`;
  const kept = (columns: ExportColumn[]) =>
    context.columns ? columns.filter((c) => context.columns!.includes(c.name)) : columns;
  const select = (columns: ExportColumn[]) =>
    join(
      columns.map((c) => sql`${c.value} AS ${ident(c.name)}, `),
      '',
    );
  const { scalars, lists, vectors } = scope.columns;
  switch (mode) {
    case 'uid-rows':
      return sql`SELECT ${runId}${select(kept([...scalars, ...vectors]))}${place}, ord AS _ord, pos AS _pos
        FROM export_uid_events WHERE ${and([...E, ...U])}`;
    case 'events': {
      const head = sql`SELECT ${runId}${select(kept(scalars))}`;
      if (!U.length)
        return sql`${head}${select(kept(lists))}${place}, ord AS _ord, -1 AS _pos FROM export_events WHERE ${and(E)}`;
      // Events with a matching uid, their uid-aligned lists cut to the matching positions.
      const cut = select(
        kept(lists).map((c) =>
          c.perUid
            ? {
                ...c,
                value: sql`CASE WHEN len(${ident(c.name)}) = len(uids) THEN list_select(${c.value}, __keep) END`,
              }
            : c,
        ),
      );
      const perUid = vectors.map((c) => c.name).filter((n) => n !== 'uid');
      return sql`${head}${cut}${place}, ord AS _ord, -1 AS _pos
        FROM (SELECT *, ${matchingPositions(perUid, U)} AS __keep FROM export_events WHERE ${and([...E, UIDS_ARE_INTEGERS])})
        WHERE len(__keep) > 0`;
    }
    case 'mining':
    case 'openai': {
      const key = sql`{'r': rewards, 'o': -ord, 'p': -pos}`;
      return sql`SELECT ${runId}prompt, arg_max(completions, k) AS completion, arg_max(rewards, k) AS reward,
          arg_max(uid, k) AS uid, ${place}, arg_max(ord, k) AS _ord, arg_max(pos, k) AS _pos, min(ord) AS _first
        FROM (SELECT prompt, completions, rewards, uid, ord, pos, ${key} AS k FROM export_uid_events
              WHERE ${and([...E, ...U, ...MINABLE])})
        GROUP BY prompt`;
    }
  }
}

/** The (event, uid) rows the presets choose from: a prompt, a completion, a finite reward. */
export const MINABLE: readonly Sql[] = [
  sql`prompt IS NOT NULL AND prompt <> ''`,
  sql`completions IS NOT NULL AND completions <> '' AND isfinite(rewards)`,
];

/**
 * The export's rows over `staged` (one run's query, or every run's staged part), before output
 * conversions: plain rows keep the staged order; dedupe and the presets carry an `_order` column
 * to sort by.
 */
export function finalQuery(
  mode: ExportMode,
  columns: readonly string[],
  options: { dedupe?: boolean; withScores?: boolean; runIds: boolean },
): { sql: Sql; ordered: boolean } {
  const runId = options.runIds;
  if (mode === 'mining' || mode === 'openai') {
    const k = sql`{'r': reward, 'run': -_run, 'o': -_ord, 'p': -_pos}`;
    const scores = options.withScores ? sql`, arg_max(reward, k) AS reward, arg_max(uid, k) AS uid` : sql``;
    const runIdColumn = runId && mode === 'mining' ? sql`arg_max(run_id, k) AS run_id, ` : sql``;
    const mined = sql`SELECT ${runIdColumn}prompt, arg_max(completion, k) AS completion${scores},
        min({'run': _run, 'o': _first}) AS _order
      FROM (SELECT *, ${k} AS k FROM staged) GROUP BY prompt`;
    if (mode === 'mining') return { sql: mined, ordered: true };
    return {
      sql: sql`SELECT [{'role': 'user', 'content': prompt}, {'role': 'assistant', 'content': completion}] AS messages, _order FROM (${mined})`,
      ordered: true,
    };
  }
  const data = columns.filter((c) => c !== 'run_id').map((c) => ident(c));
  const runIdColumn = runId ? sql`run_id, ` : sql``;
  if (!options.dedupe) return { sql: sql`SELECT ${runIdColumn}${data} FROM staged`, ordered: false };
  const place = sql`{'r': _run, 'o': _ord, 'p': _pos}`;
  return {
    sql: sql`SELECT ${runId ? sql`arg_min(run_id, ${place}) AS run_id, ` : sql``}${data}, min(${place}) AS _order
      FROM staged GROUP BY ${data}`,
    ordered: true,
  };
}
