import type { FieldStat } from '../engine/field-catalog.js';
import type { Run } from '../engine/run.js';
import { ident, sql, type Sql } from '../engine/sql.js';
import { hasUidsList, perUidNames, UID_ROW_NAMES, UIDS_ARE_INTEGERS } from './export-views.js';

/** A column as exported: its name and the SQL of its value over the export views. */
export interface ExportColumn {
  name: string;
  value: Sql;
  /** A list aligned with `uids` (cut to the matching positions when per-uid filters apply). */
  perUid?: boolean;
}

export interface ExportColumns {
  /** One value per event (over both views). */
  scalars: ExportColumn[];
  /** Lists of a per-event export: `uids`, the per-uid vectors, then the other lists. */
  lists: ExportColumn[];
  /** `uid` and the per-uid vectors' values of a per-(event, uid) export. */
  vectors: ExportColumn[];
}

/**
 * The run's exportable columns. The index stores numbers and booleans as DOUBLE; fields that only
 * ever held true/false are exported as BOOLEAN, scalars that only held whole numbers (block,
 * _step, best_uid) as BIGINT, `uid` as INTEGER. Per-uid numbers stay DOUBLE: a reward vector can
 * hold only 0.0 and 1.0, which JSON cannot tell from integers.
 */
export function exportColumns(run: Run, fields: readonly FieldStat[]): ExportColumns {
  const kinds = new Map(fields.map((f) => [`${f.role}:${f.path}`, valueKinds(f)]));
  const bool = (role: string, name: string) => {
    const k = kinds.get(`${role}:${name}`) ?? [];
    return k.length === 1 && k[0] === 'bool';
  };
  const scalars = [...run.columns.scalars]
    .filter(([name]) => !UID_ROW_NAMES.has(name))
    .map(([name, type]): ExportColumn => {
      const k = kinds.get(`scalar:${name}`) ?? [];
      const column = ident(name);
      if (type !== 'DOUBLE') return { name, value: column };
      if (bool('scalar', name)) return { name, value: sql`CAST(${column} AS BOOLEAN)` };
      // Text in a numeric column was "" or unparsable and is stored as NULL (FileTAO's best_uid: int or "").
      if (k.includes('int') && k.every((t) => t === 'int' || t === 'string'))
        return { name, value: sql`TRY_CAST(${column} AS BIGINT)` };
      return { name, value: column };
    });
  const vectorNames = perUidNames(run);
  const lists: ExportColumn[] = [];
  const vectors: ExportColumn[] = [];
  if (hasUidsList(run)) {
    lists.push({
      name: 'uids',
      value: sql`CASE WHEN ${UIDS_ARE_INTEGERS} THEN CAST(uids AS INTEGER[]) END`,
      perUid: true,
    });
    vectors.push({ name: 'uid', value: sql`uid` });
  }
  for (const name of vectorNames) {
    const flags = bool('per-uid', name);
    lists.push({ name, value: flags ? sql`CAST(${ident(name)} AS BOOLEAN[])` : ident(name), perUid: true });
    vectors.push({ name, value: flags ? sql`CAST(${ident(name)} AS BOOLEAN)` : ident(name) });
  }
  for (const name of run.columns.lists.keys())
    if (!(name === 'uids' && hasUidsList(run)) && !vectorNames.includes(name))
      lists.push({ name, value: ident(name) });
  return { scalars, lists, vectors };
}

function valueKinds(stat: FieldStat): string[] {
  return Object.entries(stat.types)
    .filter(([type, n]) => (n ?? 0) > 0 && type !== 'null')
    .map(([type]) => type);
}
