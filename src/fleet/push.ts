import path from 'node:path';
import type { Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import type { Session } from '../engine/session.js';
import { ident, join, lit, sql, type Sql } from '../engine/sql.js';
import type { Fleet, FleetNode } from './clickhouse.js';
import { chIdent, chLit } from '../engine/clickhouse-text.js';
import { rowBinaryStream, type BinaryColumn } from './row-binary.js';
import {
  ensureFieldColumns,
  ensureTables,
  FIXED_COLUMNS,
  localTable,
  shardOf,
  type FieldType,
  type TableName,
} from './tables.js';

/**
 * `runlens push`: a run's normalised rows (its index's views) into the fleet's tables, on the
 * run's shard. Incremental and idempotent, whatever point an earlier push stopped at:
 * - the `files` table is the ledger: per file, its identity (path, hash of the first KiB) and the
 *   rows pushed so far; a push sends only the rows after those;
 * - rows go in blocks of events (each table's block is one INSERT = one ClickHouse part, so it is
 *   all there or not at all), per-uid and uid-indexed rows before the events, the ledger after;
 * - rows past the ledger (an insert that landed before a push stopped) are deleted before the
 *   push goes on, and a file whose identity or place changed is pushed again from its start.
 */
export interface PushOptions {
  /** Name of the run in the fleet (default: the run directory's or file's name). */
  name: string;
  /** Events per block (default 100 000). */
  blockEvents?: number;
  /** The fleet's run of this name holds none of these files: replace it rather than refuse. */
  replace?: boolean;
  onProgress?: (progress: PushProgress) => void;
}

export interface PushProgress {
  run: string;
  file: string;
  rows: number;
  totalRows: number;
}

export interface PushResult {
  run: string;
  node: string;
  /** Rows inserted by this push, per table. */
  inserted: Record<'events' | 'uid_events' | 'uid_indexed', number>;
  /** Files pushed again from their start (rewritten, replaced or moved in the file order). */
  repushed: string[];
  /** Rows found past the ledger (an earlier push stopped mid-way) and deleted. */
  recovered: number;
  /** Fields whose type in the fleet differs from this run's (their values are cast). */
  conflicts: string[];
}

const BLOCK_EVENTS = 100_000;

/**
 * The default name of a run in the fleet: its directory's name, and for a log file given on its
 * own `directory/stem` (two logs of one directory are two runs).
 */
export function defaultRunName(run: Run, input?: string): string {
  const root = run.location.root;
  const dir = path.basename(root);
  const file =
    input === undefined
      ? undefined
      : run.location.files.find((f) => path.resolve(f.path) === path.resolve(input));
  if (!file || run.location.files.length !== 1) return dir;
  const stem = path.basename(file.path).replace(/(\.(jsonl|json|ndjson|log|csv|txt))?(\.gz)?$/i, '');
  return `${dir}/${stem}`;
}

interface LedgerRow {
  file_id: number;
  path: string;
  head_hash: string;
  rows: number;
  first_ord: number;
}

export async function pushRun(fleet: Fleet, run: Run, options: PushOptions): Promise<PushResult> {
  const name = options.name;
  await ensureTables(fleet);
  const node = fleet.nodes[shardOf(name, fleet.nodes.length)];
  await checkShard(fleet, node, name);
  const blockEvents = options.blockEvents ?? BLOCK_EVENTS;

  // Fields: the scalars of `events`, the per-uid values of `uid_events`.
  const eventFields = fieldsOf(run.columns.scalars, FIXED_COLUMNS.events);
  const uidFields = fieldsOf(run.columns.perUid, FIXED_COLUMNS.uid_events);
  const eventTypes = await ensureFieldColumns(fleet, 'events', eventFields);
  const uidTypes = await ensureFieldColumns(fleet, 'uid_events', uidFields);
  const conflicts = [
    ...[...eventFields].filter(([n, t]) => eventTypes.get(n) !== t).map(([n]) => n),
    ...[...uidFields].filter(([n, t]) => uidTypes.get(n) !== t).map(([n]) => n),
  ];

  const files = run.ingest.files;
  let before = 0;
  const firstOrd = new Map<number, number>();
  for (const f of files) {
    firstOrd.set(f.fileId, before);
    before += f.rows;
  }

  const ledger = new Map(
    (
      await node.all<LedgerRow>(
        `SELECT file_id, argMax(path, version) AS path, argMax(head_hash, version) AS head_hash,
                argMax(rows, version) AS rows, argMax(first_ord, version) AS first_ord
         FROM ${localTable(fleet, 'files')} WHERE run = ${chLit(name)} GROUP BY file_id`,
      )
    ).map((r) => [Number(r.file_id), { ...r, rows: Number(r.rows), first_ord: Number(r.first_ord) }]),
  );

  // Another run under this name (none of its files are these): refuse unless told to replace it.
  const pushedPaths = [...ledger.values()].filter((e) => e.rows > 0).map((e) => e.path);
  if (pushedPaths.length && !options.replace && !files.some((f) => pushedPaths.includes(f.path)))
    throw new UserError(
      `run ${name} in the fleet holds other files (${pushedPaths
        .slice(0, 2)
        .map((p) => path.basename(p))
        .join(', ')}${pushedPaths.length > 2 ? ', …' : ''}) than ${run.location.root}`,
      { hint: "give this run another name with --run NAME, or --replace to replace the fleet's run" },
    );

  // Files to push again from the start, and files gone from the run.
  const local = new Map(files.map((f) => [f.fileId, f]));
  const repushed: string[] = [];
  const startAt = new Map<number, number>();
  const dropped: number[] = [];
  for (const [fileId, entry] of ledger) {
    const f = local.get(fileId);
    if (!f) {
      if (entry.rows > 0) dropped.push(fileId);
      continue;
    }
    const same =
      entry.path === f.path &&
      entry.head_hash === f.headHash &&
      entry.rows <= f.rows &&
      entry.first_ord === firstOrd.get(fileId);
    startAt.set(fileId, same ? entry.rows : 0);
    if (!same && entry.rows > 0) repushed.push(f.name);
  }

  // Rows past the ledger: what an interrupted push inserted without recording it.
  let recovered = 0;
  const deletions: { fileId: number; from: number }[] = [];
  const ROW_TABLES: TableName[] = ['uid_events', 'uid_indexed', 'events'];
  for (const table of ROW_TABLES) {
    const present = await node.all<{ file_id: number; n: number; upto: number }>(
      `SELECT file_id, count() AS n, max(rec) + 1 AS upto FROM ${localTable(fleet, table)}
       WHERE run = ${chLit(name)} GROUP BY file_id`,
    );
    for (const p of present) {
      const fileId = Number(p.file_id);
      const from = local.has(fileId) ? (startAt.get(fileId) ?? 0) : 0;
      if (Number(p.upto) > from) {
        deletions.push({ fileId, from });
        // Rows of a file pushed again are not recovered ones: only those past its ledger.
        if (table === 'events') recovered += Math.max(0, Number(p.upto) - (ledger.get(fileId)?.rows ?? 0));
      }
    }
  }
  for (const fileId of dropped) deletions.push({ fileId, from: 0 });
  if (deletions.length) await deleteRows(fleet, node, name, deletions);
  for (const fileId of dropped)
    await writeLedger(fleet, node, name, {
      fileId,
      path: '',
      name: '',
      headHash: '',
      rows: 0,
      firstOrd: 0,
      bytes: 0,
    });

  // The blocks.
  const inserted = { events: 0, uid_events: 0, uid_indexed: 0 };
  const totalRows = files.reduce((sum, f) => sum + f.rows - (startAt.get(f.fileId) ?? 0), 0);
  let doneRows = 0;
  const hasUidRows = run.ingest.uidRows > 0;
  const hasIndexed = run.columns.indexedKinds.length > 0;
  for (const f of files) {
    const from0 = startAt.get(f.fileId) ?? 0;
    if (from0 >= f.rows && ledger.has(f.fileId) && ledger.get(f.fileId)!.rows === f.rows) continue;
    for (let from = from0; from < f.rows || from === from0; from += blockEvents) {
      const to = Math.min(from + blockEvents, f.rows);
      if (to > from) {
        const range = sql`file_id = ${lit(f.fileId)} AND rec >= ${lit(from)} AND rec < ${lit(to)}`;
        if (hasUidRows)
          inserted.uid_events += await insertRows(
            run.session,
            fleet,
            node,
            name,
            'uid_events',
            uidRowsSelect(uidFields, uidTypes, range),
          );
        if (hasIndexed)
          inserted.uid_indexed += await insertRows(
            run.session,
            fleet,
            node,
            name,
            'uid_indexed',
            indexedSelect(range),
          );
        inserted.events += await insertRows(
          run.session,
          fleet,
          node,
          name,
          'events',
          eventsSelect(eventFields, eventTypes, range),
        );
      }
      await writeLedger(fleet, node, name, {
        fileId: f.fileId,
        path: f.path,
        name: f.name,
        headHash: f.headHash,
        rows: Math.max(to, from),
        firstOrd: firstOrd.get(f.fileId)!,
        bytes: f.bytes,
      });
      doneRows += Math.max(0, to - from);
      options.onProgress?.({ run: name, file: f.name, rows: doneRows, totalRows });
      if (to >= f.rows) break;
    }
  }

  await writeRunRow(fleet, node, name, run);
  return { run: name, node: node.address, inserted, repushed, recovered, conflicts };
}

/** A run's rows live on the node shardOf picks; found on another, the URLs' order or count changed. */
async function checkShard(fleet: Fleet, node: FleetNode, name: string): Promise<void> {
  if (fleet.nodes.length < 2) return;
  for (const other of fleet.nodes) {
    if (other === node) continue;
    const found = await other.all<{ n: number }>(
      `SELECT count() AS n FROM ${localTable(fleet, 'files')} WHERE run = ${chLit(name)}`,
    );
    if (Number(found[0]?.n ?? 0) > 0)
      throw new UserError(
        `run ${name} is stored on ${other.address}, but with these URLs it belongs on ${node.address}`,
        {
          hint: 'give --clickhouse the shards in the order of the first push (one URL per shard of remote_servers)',
        },
      );
  }
}

function fieldsOf(
  columns: ReadonlyMap<string, 'DOUBLE' | 'VARCHAR'>,
  fixed: ReadonlySet<string>,
): Map<string, FieldType> {
  const fields = new Map<string, FieldType>();
  for (const [name, type] of columns)
    if (!fixed.has(name)) fields.set(name, type === 'DOUBLE' ? 'Float64' : 'String');
  return fields;
}

interface Select {
  query: Sql;
  columns: { name: string; binary: BinaryColumn }[];
}

const U32: BinaryColumn = { type: 'UInt32', nullable: false };
const U64: BinaryColumn = { type: 'UInt64', nullable: false };
const F64N: BinaryColumn = { type: 'Float64', nullable: true };
const STRN: BinaryColumn = { type: 'String', nullable: true };

function fieldColumn(name: string, type: FieldType): { expr: Sql; binary: BinaryColumn } {
  return type === 'Float64'
    ? { expr: sql`TRY_CAST(${ident(name)} AS DOUBLE)`, binary: F64N }
    : { expr: sql`CAST(${ident(name)} AS VARCHAR)`, binary: STRN };
}

function selectOf(
  view: string,
  fixed: { name: string; expr: Sql; binary: BinaryColumn }[],
  fields: Map<string, FieldType>,
  types: Map<string, FieldType>,
  where: Sql,
): Select {
  const all = [
    ...fixed,
    ...[...fields.keys()].map((name) => ({
      name,
      ...fieldColumn(name, types.get(name) ?? fields.get(name)!),
    })),
  ];
  return {
    query: sql`SELECT ${join(all.map((c) => sql`${c.expr} AS ${ident(c.name)}`))} FROM ${ident(view)} WHERE ${where}`,
    columns: all.map((c) => ({ name: c.name, binary: c.binary })),
  };
}

const common = (): { name: string; expr: Sql; binary: BinaryColumn }[] => [
  { name: 'file_id', expr: sql`CAST(file_id AS UINTEGER)`, binary: U32 },
  { name: 'rec', expr: sql`CAST(rec AS UBIGINT)`, binary: U64 },
  { name: 'line', expr: sql`CAST(line AS UBIGINT)`, binary: U64 },
];

function eventsSelect(fields: Map<string, FieldType>, types: Map<string, FieldType>, where: Sql): Select {
  return selectOf(
    'events',
    [
      ...common(),
      { name: 'ord', expr: sql`CAST(ord AS UBIGINT)`, binary: U64 },
      { name: 'x', expr: sql`CAST(x AS DOUBLE)`, binary: F64N },
      { name: 'task', expr: sql`CAST(task AS VARCHAR)`, binary: STRN },
    ],
    fields,
    types,
    where,
  );
}

function uidRowsSelect(fields: Map<string, FieldType>, types: Map<string, FieldType>, where: Sql): Select {
  return selectOf(
    'uid_events',
    [
      ...common(),
      { name: 'pos', expr: sql`CAST(pos AS UINTEGER)`, binary: U32 },
      { name: 'uid', expr: sql`CAST(uid AS BIGINT)`, binary: { type: 'Int64', nullable: true } },
      { name: 'ord', expr: sql`CAST(ord AS UBIGINT)`, binary: U64 },
      { name: 'x', expr: sql`CAST(x AS DOUBLE)`, binary: F64N },
      { name: 'task', expr: sql`CAST(task AS VARCHAR)`, binary: STRN },
    ],
    fields,
    types,
    where,
  );
}

function indexedSelect(where: Sql): Select {
  return selectOf(
    'uid_indexed_events',
    [
      ...common(),
      { name: 'kind', expr: sql`CAST(kind AS VARCHAR)`, binary: { type: 'String', nullable: false } },
      { name: 'uid', expr: sql`CAST(uid AS BIGINT)`, binary: { type: 'Int64', nullable: false } },
      { name: 'value', expr: sql`CAST(value AS DOUBLE)`, binary: { type: 'Float64', nullable: false } },
      { name: 'ord', expr: sql`CAST(ord AS UBIGINT)`, binary: U64 },
      { name: 'x', expr: sql`CAST(x AS DOUBLE)`, binary: F64N },
    ],
    new Map(),
    new Map(),
    where,
  );
}

/** The selected rows into the node's table, as one INSERT (one block); returns the rows sent. */
async function insertRows(
  session: Session,
  fleet: Fleet,
  node: FleetNode,
  name: string,
  table: TableName,
  select: Select,
): Promise<number> {
  let rows = 0;
  const columns = ['run', ...select.columns.map((c) => c.name)].map(chIdent).join(', ');
  const body = rowBinaryStream(
    session.connection,
    select.query.text,
    select.columns.map((c) => c.binary),
    [name],
    (n) => (rows = n),
  );
  await node.insertRowBinary(localTable(fleet, table), columns, body);
  return rows;
}

/** A file's ledger row: what of it is pushed (rows), where it sits in the run, its identity. */
interface LedgerEntry {
  fileId: number;
  path: string;
  name: string;
  headHash: string;
  rows: number;
  firstOrd: number;
  bytes: number;
}

async function writeLedger(fleet: Fleet, node: FleetNode, run: string, e: LedgerEntry): Promise<void> {
  await node.command(
    `INSERT INTO ${localTable(fleet, 'files')} (run, file_id, path, name, head_hash, rows, first_ord, bytes, version) VALUES
     (${[
       chLit(run),
       String(e.fileId),
       chLit(e.path),
       chLit(e.name),
       chLit(e.headHash),
       String(e.rows),
       String(e.firstOrd),
       String(e.bytes),
       nextVersion(),
     ].join(', ')})`,
  );
}

let lastVersion = 0n;
/** A version that grows even within one millisecond (ReplacingMergeTree keeps the largest). */
function nextVersion(): string {
  const now = BigInt(Date.now()) * 1000n;
  lastVersion = now > lastVersion ? now : lastVersion + 1n;
  return lastVersion.toString();
}

/** Deletes a run's rows of some files from `from` on, and waits until ClickHouse has done it. */
async function deleteRows(
  fleet: Fleet,
  node: FleetNode,
  run: string,
  which: { fileId: number; from: number }[],
): Promise<void> {
  const unique = new Map<number, number>();
  for (const w of which) unique.set(w.fileId, Math.min(unique.get(w.fileId) ?? Infinity, w.from));
  const condition = [...unique]
    .map(([fileId, from]) => `(file_id = ${fileId} AND rec >= ${from})`)
    .join(' OR ');
  for (const table of ['uid_events', 'uid_indexed', 'events'] as const)
    await node.command(
      `ALTER TABLE ${localTable(fleet, table)} DELETE WHERE run = ${chLit(run)} AND (${condition})`,
    );
  const deadline = Date.now() + 600_000;
  for (;;) {
    const pending = await node.all<{ n: number }>(
      `SELECT count() AS n FROM system.mutations WHERE database = ${chLit(fleet.target.database)} AND is_done = 0`,
    );
    if (Number(pending[0]?.n ?? 0) === 0) return;
    if (Date.now() > deadline)
      throw new Error(`ClickHouse at ${node.address}: deleting rows did not finish in 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What a query of the run in the fleet needs to know of its columns (FleetRun reads it). */
export interface PushedColumns {
  scalars: Record<string, 'DOUBLE' | 'VARCHAR'>;
  perUid: Record<string, 'DOUBLE' | 'VARCHAR'>;
  indexedKinds: string[];
}

async function writeRunRow(fleet: Fleet, node: FleetNode, name: string, run: Run): Promise<void> {
  const summary = await run.summary();
  const xRange = await run.xRange();
  const columns: PushedColumns = {
    scalars: Object.fromEntries([...run.columns.scalars].filter(([n]) => !FIXED_COLUMNS.events.has(n))),
    perUid: Object.fromEntries([...run.columns.perUid].filter(([n]) => !FIXED_COLUMNS.uid_events.has(n))),
    indexedKinds: [...run.columns.indexedKinds],
  };
  await node.command(
    `INSERT INTO ${localTable(fleet, 'runs')} (run, profile, x_column, x_label, task_column, files, rows, uid_rows, indexed_rows, bytes, x_min, x_max, x_integer, columns, problems, truncated, pushed, version) VALUES
     (${[
       chLit(name),
       chLit(summary.profile),
       chLit(run.x.column ?? ''),
       chLit(run.x.label),
       chLit(run.taskColumn ?? ''),
       String(summary.files),
       String(summary.rows),
       String(summary.uidRows),
       String(summary.uidIndexedRows),
       String(summary.bytes),
       xRange.min === null ? 'NULL' : chLit(xRange.min),
       xRange.max === null ? 'NULL' : chLit(xRange.max),
       xRange.integer ? '1' : '0',
       chLit(JSON.stringify(columns)),
       String(summary.problems),
       String(summary.truncated),
       `toDateTime(${Math.floor(Date.now() / 1000)})`,
       nextVersion(),
     ].join(', ')})`,
  );
}
