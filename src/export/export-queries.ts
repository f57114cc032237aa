import { columnTypes, hasUidRows } from '../analysis/run-columns.js';
import type { Run } from '../engine/run.js';
import { quoteIdentifier as q, quoteString } from '../engine/session.js';
import { UserError } from '../errors.js';
import type { ExportMode } from './export-options.js';
import type { ExportScope } from './export-scope.js';

/** A slice of one file's records, small enough that per-event lists are built within memory. */
export interface Chunk {
  fileId: number;
  from: number;
  to: number;
}

/**
 * Bytes of (event, uid) rows per chunk, as DuckDB's vectors hold them (16 a text plus its bytes, 8
 * a DOUBLE, 4 an INTEGER): ordered per-event lists of this much fit DuckDB's memory limit. By bytes,
 * not rows: OpenValidators' per-uid rows (~300 bytes, with the completion) make ~60 000 rows a
 * chunk, as all rows did before, FileTAO's (~80 bytes) ~220 000. Each chunk is one query plus a
 * release of DuckDB's cached blocks (~30 ms): FileTAO's narrow rows in chunks of 60 000 spent about
 * a fifth of the export on the releases and the per-query overhead.
 */
const UID_ROW_BYTES_PER_CHUNK = 17_500_000;
/** At most this many (event, uid) rows a chunk however narrow (measured up to 240 000). */
const MAX_UID_ROWS_PER_CHUNK = 240_000;
const EVENTS_PER_CHUNK = 200_000;

/**
 * Chunks covering every file's records from `since[fileId]` (0 by default) to its end, each with
 * about `uidRowBytesPerChunk` of per-uid rows (at least 64 events).
 */
export async function planChunks(
  run: Run,
  since: ReadonlyMap<number, number> = new Map(),
  uidRowBytesPerChunk = UID_ROW_BYTES_PER_CHUNK,
): Promise<Chunk[]> {
  const files = await run.session.all<{ file_id: number; rows: number }>(
    'SELECT file_id, CAST(rows AS DOUBLE) AS rows FROM files ORDER BY file_id',
  );
  const perFile = new Map<number, { n: number; bytes: number }>();
  if (hasUidRows(run)) {
    const width = uidRowWidth(await columnTypes(run, 'uid_rows'));
    const rows = await run.session.allWithLowMemory<{ file_id: number; n: number; bytes: number }>(
      `SELECT file_id, CAST(count(*) AS DOUBLE) AS n, CAST(sum(${width}) AS DOUBLE) AS bytes FROM uid_rows GROUP BY file_id`,
    );
    for (const r of rows) perFile.set(r.file_id, r);
  }
  const chunks: Chunk[] = [];
  for (const file of files) {
    const uid = perFile.get(file.file_id);
    const uidRowsPerEvent = (uid?.n ?? 0) / Math.max(1, file.rows);
    const uidRowsPerChunk =
      uid === undefined ? 0 : Math.min(MAX_UID_ROWS_PER_CHUNK, uidRowBytesPerChunk / (uid.bytes / uid.n));
    const size =
      uidRowsPerEvent > 0 ? Math.max(64, Math.floor(uidRowsPerChunk / uidRowsPerEvent)) : EVENTS_PER_CHUNK;
    for (let from = since.get(file.file_id) ?? 0; from < file.rows; from += size)
      chunks.push({ fileId: file.file_id, from, to: Math.min(file.rows, from + size) });
  }
  return chunks;
}

/**
 * SQL for the bytes one (event, uid) row's exported values take in DuckDB's vectors (see
 * UID_ROW_BYTES_PER_CHUNK), over the per-uid columns (`columnTypes`) without file_id and rec.
 */
function uidRowWidth(types: ReadonlyMap<string, string>): string {
  const terms: string[] = [];
  for (const [name, type] of types) {
    if (name === 'file_id' || name === 'rec') continue;
    if (type === 'VARCHAR') terms.push(`16 + coalesce(strlen(${q(name)}), 0)`);
    else terms.push(type === 'INTEGER' ? '4' : '8');
  }
  return terms.join(' + ');
}

export interface ChunkContext {
  runIndex: number;
  /** The run's id when several runs are exported together (a `run_id` column). */
  runId?: string;
  /** Output columns to keep (`--columns`), by output name. */
  columns?: readonly string[];
}

function and(conditions: readonly string[]): string {
  return conditions.map((c) => `(${c})`).join(' AND ') || 'true';
}

function chunkCondition(chunk: Chunk, prefix = ''): string {
  return `${prefix}file_id = ${chunk.fileId} AND ${prefix}rec >= ${chunk.from} AND ${prefix}rec < ${chunk.to}`;
}

function runIdColumn(context: ChunkContext): string {
  return context.runId === undefined ? '' : `${quoteString(context.runId)} AS run_id, `;
}

/** Output names of a mode, for `--columns` and error messages. */
export function outputNames(scope: ExportScope, mode: ExportMode): string[] {
  const vectors = scope.hasUidRows
    ? scope.vectors.map((v) => (mode === 'events' && v.name === 'uid' ? 'uids' : v.name))
    : [];
  return [...scope.scalars.map((s) => s.name), ...vectors];
}

function selected<T extends { name: string }>(
  all: T[],
  context: ChunkContext,
  rename = (n: string) => n,
): T[] {
  return context.columns ? all.filter((c) => context.columns!.includes(rename(c.name))) : all;
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
 * One chunk's rows for the staging parquet part: output columns plus `_run`, `_ord`, `_pos`
 * (the row's place in the run, for ordering and for keeping the first of duplicates).
 */
export function chunkQuery(
  scope: ExportScope,
  mode: ExportMode,
  chunk: Chunk,
  context: ChunkContext,
): string {
  const E = and(scope.eventLevel);
  const U = and(scope.uidLevel);
  const place = `${context.runIndex} AS _run`;
  switch (mode) {
    case 'uid-rows': {
      const scalars = selected(scope.scalars, context).map((s) => `${s.cast(q(s.name))} AS ${q(s.name)}`);
      const vectors = selected(scope.vectors, context).map((v) => `${v.cast(q(v.name))} AS ${q(v.name)}`);
      return `SELECT ${runIdColumn(context)}${[...scalars, ...vectors].join(', ')}, ${place}, ord AS _ord, pos AS _pos
        FROM ${scope.uidEvents} WHERE ${chunkCondition(chunk)} AND ${E} AND ${U} ORDER BY rec, pos`;
    }
    case 'events': {
      const scalars = selected(scope.scalars, context).map(
        (s) => `${s.cast(`e.${q(s.name)}`)} AS ${q(s.name)}`,
      );
      const vectors = scope.hasUidRows
        ? selected(scope.vectors, context, (n) => (n === 'uid' ? 'uids' : n))
        : [];
      const filtered = scope.uidLevel.length > 0;
      let join = '';
      const lists: string[] = [];
      if (vectors.length || filtered) {
        // One list per vector and one of the positions, built together (so in one order), then
        // put in position order only where they are not already: `g` is null for a sorted event.
        // (A sorted list of structs split by six list_transforms cost ~20 % more per chunk.)
        const aggregates = vectors.map((v, i) => `, list(${v.cast(q(v.name))}) AS v${i}`).join('');
        join = `${filtered ? 'JOIN' : 'LEFT JOIN'} (
            SELECT rec, CASE WHEN list_sort(p) = p THEN NULL ELSE list_grade_up(p) END AS g, * EXCLUDE (rec, p)
            FROM (SELECT rec, list(pos) AS p${aggregates}
              FROM ${scope.uidEvents} WHERE ${chunkCondition(chunk)} AND ${E} AND ${U} GROUP BY rec)) k USING (rec)`;
        vectors.forEach((v, i) =>
          lists.push(
            `CASE WHEN k.g IS NULL THEN k.v${i} ELSE list_select(k.v${i}, k.g) END AS ${q(v.name === 'uid' ? 'uids' : v.name)}`,
          ),
        );
      }
      const columns = [...scalars, ...lists];
      return `SELECT ${runIdColumn(context)}${columns.length ? `${columns.join(', ')}, ` : ''}${place}, e.ord AS _ord, -1 AS _pos
        FROM ${scope.events} e ${join}
        WHERE ${chunkCondition(chunk, 'e.')} AND ${E} ORDER BY e.rec`;
    }
    case 'mining':
    case 'openai': {
      const key = `{'r': rewards, 'o': -ord, 'p': -pos}`;
      return `SELECT ${runIdColumn(context)}prompt, arg_max(completions, k) AS completion, arg_max(rewards, k) AS reward,
          arg_max(uid, k) AS uid, ${place}, arg_max(ord, k) AS _ord, arg_max(pos, k) AS _pos, min(ord) AS _first
        FROM (SELECT prompt, completions, rewards, uid, ord, pos, ${key} AS k FROM ${scope.uidEvents}
              WHERE ${chunkCondition(chunk)} AND ${E} AND ${U} AND prompt IS NOT NULL AND prompt <> ''
                AND completions IS NOT NULL AND completions <> '' AND isfinite(rewards))
        GROUP BY prompt`;
    }
  }
}

/**
 * The export's rows over every staged part (`staged`), before output conversions: plain rows
 * keep the staged order; dedupe and the presets carry an `_order` column to sort by.
 */
export function finalQuery(
  mode: ExportMode,
  columns: readonly string[],
  options: { dedupe?: boolean; withScores?: boolean; runIds: boolean },
): { sql: string; ordered: boolean } {
  const runId = options.runIds;
  if (mode === 'mining' || mode === 'openai') {
    const k = `{'r': reward, 'run': -_run, 'o': -_ord, 'p': -_pos}`;
    const scores = options.withScores ? ', arg_max(reward, k) AS reward, arg_max(uid, k) AS uid' : '';
    const mined = `SELECT ${runId && mode === 'mining' ? 'arg_max(run_id, k) AS run_id, ' : ''}prompt, arg_max(completion, k) AS completion${scores},
        min({'run': _run, 'o': _first}) AS _order
      FROM (SELECT *, ${k} AS k FROM staged) GROUP BY prompt`;
    if (mode === 'mining') return { sql: mined, ordered: true };
    return {
      sql: `SELECT [{'role': 'user', 'content': prompt}, {'role': 'assistant', 'content': completion}] AS messages, _order FROM (${mined})`,
      ordered: true,
    };
  }
  const data = columns.filter((c) => c !== 'run_id');
  const list = data.map((c) => q(c)).join(', ');
  if (!options.dedupe) return { sql: `SELECT ${runId ? 'run_id, ' : ''}${list} FROM staged`, ordered: false };
  const place = `{'r': _run, 'o': _ord, 'p': _pos}`;
  return {
    sql: `SELECT ${runId ? `arg_min(run_id, ${place}) AS run_id, ` : ''}${list}, min(${place}) AS _order
      FROM staged GROUP BY ${list}`,
    ordered: true,
  };
}
