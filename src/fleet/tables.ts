import { UserError } from '../errors.js';
import type { Fleet, FleetNode } from './clickhouse.js';
import { chIdent, chLit } from '../engine/clickhouse-text.js';

/**
 * The fleet's tables, the same as a run index's views (index-views.ts) with a `run` column:
 * - `events`: one row per event (file_id, rec, line, ord, x, task, every scalar field);
 * - `uid_events`: one row per event × uid position (pos, uid, every per-uid value);
 * - `uid_indexed`: (kind, uid, value) of the lists indexed by uid (set_weights, …);
 * - `files`: what is pushed of each file (the push's ledger), `runs`: one row per run and push.
 * Fields become columns as runs bring them (Nullable Float64 or String; a field's first type wins).
 *
 * Every table is a MergeTree on each node (`<name>_local` with `--cluster`, behind a Distributed
 * table `<name>` over the cluster's shards). A run lives on one shard (shardOf): the push writes to
 * that node's local tables itself, so all of a run's rows are together and a query of one run
 * reads one shard; fleet queries read every shard through the Distributed tables.
 */
export type TableName = 'events' | 'uid_events' | 'uid_indexed' | 'files' | 'runs';

export type FieldType = 'Float64' | 'String';

interface FixedColumn {
  name: string;
  type: string;
}

const FIXED: Record<TableName, { columns: FixedColumn[]; engine: string }> = {
  events: {
    columns: [
      { name: 'run', type: 'String' },
      { name: 'file_id', type: 'UInt32' },
      { name: 'rec', type: 'UInt64' },
      { name: 'line', type: 'UInt64' },
      { name: 'ord', type: 'UInt64' },
      { name: 'x', type: 'Nullable(Float64)' },
      { name: 'task', type: 'Nullable(String)' },
    ],
    engine: 'MergeTree ORDER BY (run, file_id, rec)',
  },
  uid_events: {
    columns: [
      { name: 'run', type: 'String' },
      { name: 'file_id', type: 'UInt32' },
      { name: 'rec', type: 'UInt64' },
      { name: 'line', type: 'UInt64' },
      { name: 'pos', type: 'UInt32' },
      { name: 'uid', type: 'Nullable(Int64)' },
      { name: 'ord', type: 'UInt64' },
      { name: 'x', type: 'Nullable(Float64)' },
      { name: 'task', type: 'Nullable(String)' },
    ],
    engine: 'MergeTree ORDER BY (run, file_id, rec, pos)',
  },
  uid_indexed: {
    columns: [
      { name: 'run', type: 'String' },
      { name: 'file_id', type: 'UInt32' },
      { name: 'rec', type: 'UInt64' },
      { name: 'line', type: 'UInt64' },
      { name: 'kind', type: 'String' },
      { name: 'uid', type: 'Int64' },
      { name: 'value', type: 'Float64' },
      { name: 'ord', type: 'UInt64' },
      { name: 'x', type: 'Nullable(Float64)' },
    ],
    engine: 'MergeTree ORDER BY (run, kind, file_id, rec, uid)',
  },
  files: {
    columns: [
      { name: 'run', type: 'String' },
      { name: 'file_id', type: 'UInt32' },
      { name: 'path', type: 'String' },
      { name: 'name', type: 'String' },
      { name: 'head_hash', type: 'String' },
      { name: 'rows', type: 'UInt64' },
      { name: 'first_ord', type: 'UInt64' },
      { name: 'bytes', type: 'UInt64' },
      { name: 'version', type: 'UInt64' },
    ],
    engine: 'ReplacingMergeTree(version) ORDER BY (run, file_id)',
  },
  runs: {
    columns: [
      { name: 'run', type: 'String' },
      { name: 'profile', type: 'String' },
      { name: 'x_column', type: 'String' },
      { name: 'x_label', type: 'String' },
      { name: 'task_column', type: 'String' },
      { name: 'files', type: 'UInt32' },
      { name: 'rows', type: 'UInt64' },
      { name: 'uid_rows', type: 'UInt64' },
      { name: 'indexed_rows', type: 'UInt64' },
      { name: 'bytes', type: 'UInt64' },
      { name: 'x_min', type: 'Nullable(Float64)' },
      { name: 'x_max', type: 'Nullable(Float64)' },
      { name: 'x_integer', type: 'UInt8' },
      { name: 'columns', type: 'String' },
      { name: 'problems', type: 'UInt64' },
      { name: 'truncated', type: 'UInt64' },
      { name: 'pushed', type: 'DateTime' },
      { name: 'version', type: 'UInt64' },
    ],
    engine: 'ReplacingMergeTree(version) ORDER BY run',
  },
};

export const TABLE_NAMES = Object.keys(FIXED) as TableName[];

export const FIXED_COLUMNS: Record<TableName, ReadonlySet<string>> = Object.fromEntries(
  TABLE_NAMES.map((t) => [t, new Set(FIXED[t].columns.map((c) => c.name))]),
) as unknown as Record<TableName, ReadonlySet<string>>;

/** `db.name`, the table queries read (the Distributed one with --cluster). */
export function queryTable(fleet: Fleet, table: TableName): string {
  return `${chIdent(fleet.target.database)}.${chIdent(table)}`;
}

/** `db.name_local` (or `db.name` without a cluster): the table a node stores its shard's rows in. */
export function localTable(fleet: Fleet, table: TableName): string {
  return `${chIdent(fleet.target.database)}.${chIdent(fleet.target.cluster ? `${table}_local` : table)}`;
}

/** The node that holds a run's rows: a fixed hash of its name over the nodes (FNV-1a). */
export function shardOf(run: string, shards: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(run)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h % shards;
}

/** Creates the database and tables on every node (if missing) and checks the cluster's shards. */
export async function ensureTables(fleet: Fleet): Promise<void> {
  const { database, cluster } = fleet.target;
  if (cluster !== undefined) {
    const rows = await fleet.query.all<{ shards: number }>(
      `SELECT uniqExact(shard_num) AS shards FROM system.clusters WHERE cluster = ${chLit(cluster)}`,
    );
    const shards = Number(rows[0]?.shards ?? 0);
    if (shards === 0)
      throw new UserError(
        `ClickHouse at ${fleet.query.address} has no cluster ${cluster} in remote_servers`,
        {
          hint: 'give --cluster the name of a cluster in the server config, or leave it out for one node',
        },
      );
    if (shards !== fleet.nodes.length)
      throw new UserError(
        `cluster ${cluster} has ${shards} shards but --clickhouse names ${fleet.nodes.length} node(s)`,
        { hint: 'give one URL per shard, comma-separated, in the order of remote_servers' },
      );
  }
  for (const node of fleet.nodes) {
    await node.command(`CREATE DATABASE IF NOT EXISTS ${chIdent(database)}`);
    for (const table of TABLE_NAMES) {
      const columns = FIXED[table].columns.map((c) => `${chIdent(c.name)} ${c.type}`).join(', ');
      await node.command(
        `CREATE TABLE IF NOT EXISTS ${localTable(fleet, table)} (${columns}) ENGINE = ${FIXED[table].engine}`,
      );
      if (cluster !== undefined)
        await node.command(
          `CREATE TABLE IF NOT EXISTS ${queryTable(fleet, table)} AS ${localTable(fleet, table)}
           ENGINE = Distributed(${chIdent(cluster)}, ${chIdent(database)}, ${chIdent(`${table}_local`)}, cityHash64(run))`,
        );
      // Tables of an earlier runlens lack the columns added since: add them (NULL / 0 in old rows).
      const present = await tableColumns(fleet, node, table);
      for (const column of FIXED[table].columns) {
        if (present.has(column.name)) continue;
        const add = `ADD COLUMN ${chIdent(column.name)} ${column.type}`;
        await node.command(`ALTER TABLE ${localTable(fleet, table)} ${add}`);
        if (cluster !== undefined) await node.command(`ALTER TABLE ${queryTable(fleet, table)} ${add}`);
      }
    }
  }
}

/**
 * Before reading: the fleet's tables have every column this runlens reads (tables an older runlens
 * created lack the ones added since, which a push adds).
 */
export async function checkTables(fleet: Fleet): Promise<void> {
  for (const table of TABLE_NAMES) {
    const present = await tableColumns(fleet, fleet.query, table);
    if (!present.size) continue; // a missing table is reported by the query that reads it
    const missing = FIXED[table].columns.filter((c) => !present.has(c.name)).map((c) => c.name);
    if (missing.length)
      throw new UserError(
        `the fleet's ${table} table (database ${fleet.target.database}) lacks ${missing.join(', ')}: an older runlens made it`,
        {
          hint: 'push any run again with this runlens (runlens push PATH --clickhouse URL): it adds the columns',
        },
      );
  }
}

/** A table's columns on one node: name → ClickHouse type. */
export async function tableColumns(
  fleet: Fleet,
  node: FleetNode,
  table: TableName,
): Promise<Map<string, string>> {
  const local = fleet.target.cluster ? `${table}_local` : table;
  const rows = await node.all<{ name: string; type: string }>(
    `SELECT name, type FROM system.columns WHERE database = ${chLit(fleet.target.database)} AND table = ${chLit(local)}`,
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}

/**
 * Adds the fields a run brings to a table on every node (local and Distributed tables); returns
 * each field's type in the fleet (a field that is already there keeps its type).
 */
export async function ensureFieldColumns(
  fleet: Fleet,
  table: TableName,
  fields: ReadonlyMap<string, FieldType>,
): Promise<Map<string, FieldType>> {
  const types = new Map<string, FieldType>();
  for (const node of fleet.nodes) {
    const present = await tableColumns(fleet, node, table);
    for (const [name, type] of fields) {
      const existing = present.get(name);
      if (existing !== undefined) {
        types.set(name, existing.includes('String') ? 'String' : 'Float64');
        continue;
      }
      const chosen = types.get(name) ?? type;
      types.set(name, chosen);
      const add = `ADD COLUMN ${chIdent(name)} Nullable(${chosen})`;
      await node.command(`ALTER TABLE ${localTable(fleet, table)} ${add}`);
      if (fleet.target.cluster !== undefined)
        await node.command(`ALTER TABLE ${queryTable(fleet, table)} ${add}`);
    }
  }
  return types;
}
