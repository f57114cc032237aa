import { answerState } from './answers.js';
import { asList, canonicalOf, itemOf, toCanonical, type Canonical } from './canonical-sql.js';
import type { IndexColumn } from './index-db.js';
import { eventsChunk, uidChunk } from './index-read.js';
import type { StoredType } from './normalize-sql.js';
import type { RunIndex } from './run-index.js';
import { ident, join, lit, sql, trusted, type Sql } from './sql.js';
import { COPY_PREFIX, UID_ROW_COLUMNS } from './uid-rows-sql.js';

/**
 * The views every aggregate reads, over whatever chunks the index holds:
 * - `rows`: one row per event (file_id, rec, line, every field in its one type);
 * - `events`: rows plus `ord` (the global row ordinal in file order), `x` and `task`;
 * - `uid_rows` / `uid_events`: one row per event × uid position (uid, pos, every per-uid vector);
 * - `uid_indexed` / `uid_indexed_events`: (kind, uid, value) of the lists indexed by uid;
 * - `files`: each file's first ordinal and rows.
 */
export interface ViewColumns {
  /** Fields of `rows` (one value per event), name → type. */
  scalars: Map<string, Canonical>;
  /** Lists kept per event in `rows` (per-uid vectors, uids, uid-indexed and other lists). */
  lists: Map<string, Canonical>;
  /** Per-uid vectors of `uid_rows`. */
  perUid: Map<string, Canonical>;
  /** Kinds of `uid_indexed` (set_weights, …) present. */
  indexedKinds: string[];
  /** x candidates and task fields copied into the per-uid rows. */
  copies: Set<string>;
}

export interface ViewOptions {
  /** Column used as x, or undefined for the global row ordinal. */
  xColumn: string | undefined;
  taskColumn: string | undefined;
  /** Files in run order: id and rows. */
  fileOrder: readonly { fileId: number; rows: number }[];
}

export async function createViews(index: RunIndex, options: ViewOptions): Promise<ViewColumns> {
  const session = index.session;
  // The views' text names what every query over them reads (with the index's generation: answers.ts).
  const texts: string[] = [];
  // What range answers depend on besides their parts (range-state.ts): the views' text without the
  // unions' branches, and the columns and types the unions give. Each chunk's branches (how its
  // rows appear in the views) go with its parts instead, so that a chunk added without a column
  // the others have, or with another stored type, leaves the ranges it has no rows in as they were.
  const shape: string[] = [`x ${options.xColumn}`, `task ${options.taskColumn}`];
  const define = async (text: string, shapeText: string = text) => {
    texts.push(text);
    shape.push(shapeText);
    await session.run(text);
  };
  const columns = index.indexColumns();
  const chunks = [...new Set(index.chunkParts().map((c) => c.chunk))].sort((a, b) => a - b);
  const parts = index.partsOf(chunks);
  const stored = (table: string) => index.columnsOf(table) ?? new Map<string, StoredType>();
  const inAny = (name: string, tables: string[]) => tables.some((t) => stored(t).has(name));
  const eventTables = chunks.map(eventsChunk).filter((t) => index.columnsOf(t));
  const uidTables = chunks.map(uidChunk).filter((t) => index.columnsOf(t));

  const view: ViewColumns = {
    scalars: new Map(),
    lists: new Map(),
    perUid: new Map(),
    indexedKinds: [],
    copies: new Set(),
  };
  for (const c of columns) {
    if (!inAny(c.name, eventTables)) continue;
    if (c.role === 'scalar') {
      const canonical = canonicalOf(c.firstKind);
      if (canonical) view.scalars.set(c.name, canonical);
    } else {
      view.lists.set(c.name, canonicalOf(c.firstKind) ?? 'DOUBLE');
      if (c.role === 'uid-indexed') view.indexedKinds.push(c.name);
      if (c.role === 'list' && !UID_ROW_COLUMNS.has(c.name) && inAny(c.name, uidTables))
        view.perUid.set(c.name, canonicalOf(c.firstKind) ?? 'DOUBLE');
    }
  }
  for (const table of uidTables)
    for (const name of stored(table).keys()) if (name.startsWith(COPY_PREFIX)) view.copies.add(name);

  // One statement: the views join file_order, and a run of what is indexed so far queries them on
  // another connection while the next part is read; an empty file_order between a CREATE and an
  // INSERT gave its charts no rows (the dashboard's partial charts answered 404 now and then).
  let before = 0;
  const order = options.fileOrder.map((f) => {
    const row = sql`(${[lit(f.fileId), lit(before), lit(f.rows)]})`;
    before += f.rows;
    return row;
  });
  // With x from a column, the file order only orders rows: a range's rows keep their order.
  const orderShape = options.xColumn === undefined ? undefined : 'file_order';
  await define(
    order.length
      ? sql`CREATE OR REPLACE TABLE file_order AS SELECT CAST(file_id AS INTEGER) AS file_id, CAST(first_ord AS BIGINT) AS first_ord, CAST(rows AS BIGINT) AS rows FROM (VALUES ${order}) t(file_id, first_ord, rows)`
          .text
      : 'CREATE OR REPLACE TABLE file_order (file_id INTEGER, first_ord BIGINT, rows BIGINT)',
    orderShape,
  );

  const listType = (canonical: Canonical) => (canonical === 'DOUBLE' ? 'DOUBLE[]' : 'VARCHAR[]');
  const scalarOf = (table: string, name: string, canonical: Canonical): Sql => {
    const type = stored(table).get(name);
    return type ? toCanonical(ident(name), type, canonical) : sql`CAST(NULL AS ${sqlType(canonical)})`;
  };
  const listOf = (table: string, name: string, canonical: Canonical): Sql => {
    const type = stored(table).get(name);
    if (!type) return sql`CAST(NULL AS ${sqlType(listType(canonical))})`;
    const item = itemOf(type.endsWith('[]') ? type : 'JSON[]');
    return sql`list_transform(${asList(ident(name), type)}, v -> ${toCanonical(sql`v`, item, canonical)})`;
  };

  const rowBranch = (table: string, name: Sql) =>
    sql`SELECT file_id, rec, line${prefixed([
      ...[...view.scalars].map(
        ([name, canonical]) => sql`${scalarOf(table, name, canonical)} AS ${ident(name)}`,
      ),
      ...[...view.lists].map(([name, canonical]) => sql`${listOf(table, name, canonical)} AS ${ident(name)}`),
    ])} FROM ${name}`;
  const rowBranches = eventTables.map((table) => rowBranch(table, ident(table)));
  const emptyRows = sql`SELECT CAST(NULL AS INTEGER) AS file_id, CAST(NULL AS INTEGER) AS rec, CAST(NULL AS INTEGER) AS line${prefixed(
    [
      ...[...view.scalars].map(([name, c]) => sql`CAST(NULL AS ${sqlType(c)}) AS ${ident(name)}`),
      ...[...view.lists].map(([name, c]) => sql`CAST(NULL AS ${sqlType(listType(c))}) AS ${ident(name)}`),
    ],
  )} WHERE false`;
  await define(
    sql`CREATE OR REPLACE VIEW rows AS ${rowBranches.length ? join(rowBranches, ' UNION ALL ') : emptyRows}`
      .text,
    `rows ${JSON.stringify([...view.scalars, ...view.lists])}`,
  );

  const xOf = (alias: string, column: string | undefined): Sql =>
    column === undefined
      ? sql`CAST(f.first_ord + ${ident(alias)}.rec AS DOUBLE)`
      : view.scalars.get(column) === 'DOUBLE'
        ? sql`CAST(${ident(alias)}.${ident(column)} AS DOUBLE)`
        : sql`TRY_CAST(${ident(alias)}.${ident(column)} AS DOUBLE)`;
  const task =
    options.taskColumn && view.scalars.has(options.taskColumn)
      ? sql`CAST(r.${ident(options.taskColumn)} AS VARCHAR)`
      : sql`CAST(NULL AS VARCHAR)`;
  await define(
    sql`CREATE OR REPLACE VIEW events AS
    SELECT r.*, CAST(f.first_ord + r.rec AS BIGINT) AS ord, ${xOf('r', options.xColumn)} AS x, ${task} AS task
    FROM rows r JOIN file_order f USING (file_id)`.text,
  );

  // Per-uid rows: their own columns, the copies of their event's fields, the per-uid vectors.
  const copies = [...view.copies];
  const uidBranch = (table: string, name: Sql) => {
    const copy = copies.map((name) => {
      const type = stored(table).get(name);
      const canonical: Canonical = copyType(name, columns);
      return type ? sql`${ident(name)}` : sql`CAST(NULL AS ${sqlType(canonical)}) AS ${ident(name)}`;
    });
    const vectors = [...view.perUid].map(([name, canonical]) => {
      const type = stored(table).get(name);
      return type
        ? sql`${toCanonical(ident(name), type, canonical)} AS ${ident(name)}`
        : sql`CAST(NULL AS ${sqlType(canonical)}) AS ${ident(name)}`;
    });
    return sql`SELECT file_id, rec, line, pos, uid${prefixed([...copy, ...vectors])} FROM ${name}`;
  };
  const uidBranches = uidTables.map((table) => uidBranch(table, ident(table)));
  const emptyUid = sql`SELECT CAST(NULL AS INTEGER) AS file_id, CAST(NULL AS INTEGER) AS rec, CAST(NULL AS INTEGER) AS line,
    CAST(NULL AS INTEGER) AS pos, CAST(NULL AS INTEGER) AS uid${prefixed([
      ...copies.map((name) => sql`CAST(NULL AS ${sqlType(copyType(name, columns))}) AS ${ident(name)}`),
      ...[...view.perUid].map(([name, c]) => sql`CAST(NULL AS ${sqlType(c)}) AS ${ident(name)}`),
    ])} WHERE false`;
  await define(
    sql`CREATE OR REPLACE VIEW uid_rows_all AS ${uidBranches.length ? join(uidBranches, ' UNION ALL ') : emptyUid}`
      .text,
    `uid_rows_all ${JSON.stringify([...copies.map((c) => [c, copyType(c, columns)]), ...view.perUid])}`,
  );
  const hidden = copies.length ? sql` EXCLUDE (${copies.map((c) => ident(c))})` : sql``;
  await define(sql`CREATE OR REPLACE VIEW uid_rows AS SELECT *${hidden} FROM uid_rows_all`.text);
  const xCopy = options.xColumn === undefined ? undefined : COPY_PREFIX + options.xColumn;
  const taskCopy = options.taskColumn === undefined ? undefined : COPY_PREFIX + options.taskColumn;
  const joinEvents = xCopy !== undefined && !view.copies.has(xCopy);
  const uidX =
    options.xColumn === undefined
      ? sql`CAST(f.first_ord + u.rec AS DOUBLE)`
      : joinEvents
        ? xOf('r', options.xColumn)
        : sql`u.${ident(xCopy!)}`;
  const uidTask =
    taskCopy !== undefined && view.copies.has(taskCopy)
      ? sql`u.${ident(taskCopy)}`
      : joinEvents
        ? task
        : sql`CAST(NULL AS VARCHAR)`;
  await define(
    sql`CREATE OR REPLACE VIEW uid_events AS
    SELECT u.*${hidden}, CAST(f.first_ord + u.rec AS BIGINT) AS ord, ${uidX} AS x, ${uidTask} AS task
    FROM uid_rows_all u JOIN file_order f USING (file_id)${
      joinEvents ? sql` JOIN rows r ON r.file_id = u.file_id AND r.rec = u.rec` : sql``
    }`.text,
  );

  // Lists indexed by uid, one row per (event, uid) with a value; x from the event's own row.
  const indexedBranch = (table: string, name: Sql) =>
    view.indexedKinds.flatMap((kind) => {
      const type = stored(table).get(kind);
      if (!type) return [];
      const item = itemOf(type.endsWith('[]') ? type : 'JSON[]');
      const x =
        options.xColumn === undefined
          ? sql`CAST(NULL AS DOUBLE)`
          : scalarOf(table, options.xColumn, 'DOUBLE');
      return [
        sql`SELECT file_id, rec, line, ${lit(kind)} AS kind, CAST(__i AS INTEGER) AS uid, ${toCanonical(sql`__v`, item, 'DOUBLE')} AS value, __x
          FROM (SELECT file_id, rec, line, ${x} AS __x, unnest(range(len(${asList(ident(kind), type)}))) AS __i,
                       unnest(${asList(ident(kind), type)}) AS __v
                FROM ${name} WHERE ${ident(kind)} IS NOT NULL)`,
      ];
    });
  const indexedBranches = eventTables.flatMap((table) => indexedBranch(table, ident(table)));
  const emptyIndexed = sql`SELECT CAST(NULL AS INTEGER) AS file_id, CAST(NULL AS INTEGER) AS rec, CAST(NULL AS INTEGER) AS line,
    CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS INTEGER) AS uid, CAST(NULL AS DOUBLE) AS value, CAST(NULL AS DOUBLE) AS __x WHERE false`;
  await define(
    sql`CREATE OR REPLACE VIEW uid_indexed_all AS
    SELECT * FROM (${indexedBranches.length ? join(indexedBranches, ' UNION ALL ') : emptyIndexed}) WHERE value IS NOT NULL`
      .text,
    `uid_indexed_all ${JSON.stringify(view.indexedKinds)}`,
  );
  await define('CREATE OR REPLACE VIEW uid_indexed AS SELECT * EXCLUDE (__x) FROM uid_indexed_all');
  await define(
    sql`CREATE OR REPLACE VIEW uid_indexed_events AS
    SELECT i.* EXCLUDE (__x), CAST(f.first_ord + i.rec AS BIGINT) AS ord,
      ${options.xColumn === undefined ? sql`CAST(f.first_ord + i.rec AS DOUBLE)` : sql`i.__x`} AS x
    FROM uid_indexed_all i JOIN file_order f USING (file_id)`.text,
  );
  await define('CREATE OR REPLACE VIEW files AS SELECT file_id, first_ord, rows FROM file_order');
  index.viewsFingerprint = answerState(texts);
  // Range answers (range-state.ts) where x is a number in every view.
  const xColumn = options.xColumn;
  index.viewShape =
    xColumn === undefined || view.scalars.get(xColumn) !== 'DOUBLE'
      ? undefined
      : {
          fingerprint: answerState(shape),
          chunkShapes: new Map(
            chunks.map((c) => {
              const events = eventsChunk(c);
              const uids = uidChunk(c);
              const has = (table: string) => index.columnsOf(table) !== undefined;
              const branches = [
                ...(has(events) ? [rowBranch(events, CHUNK), ...indexedBranch(events, CHUNK)] : []),
                ...(has(uids) ? [uidBranch(uids, CHUNK)] : []),
              ];
              return [c, answerState(branches.map((b) => b.text))] as const;
            }),
          ),
          parts,
          xColumn,
          xTypes: new Map(
            chunks.flatMap((c) => {
              const type = stored(eventsChunk(c)).get(xColumn);
              return type ? [[c, type] as const] : [];
            }),
          ),
        };
  return view;
}

/** Stands for a chunk table in the views' shape. */
const CHUNK = ident('chunk');

function prefixed(parts: readonly Sql[]): Sql {
  return parts.length ? sql`, ${join(parts)}` : sql``;
}

function sqlType(type: Canonical | 'DOUBLE[]' | 'VARCHAR[]'): Sql {
  return trusted(type);
}

/** The type of a copied field: x candidates are numbers, task fields text. */
function copyType(name: string, columns: readonly IndexColumn[]): Canonical {
  const path = columns.find((c) => COPY_PREFIX + c.name === name)?.path;
  return path === 'task_name' || path === 'name' ? 'VARCHAR' : 'DOUBLE';
}
