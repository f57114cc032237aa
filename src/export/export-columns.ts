import { scalarColumns, uidColumns } from '../analysis/run-columns.js';
import type { FieldStat } from '../engine/field-catalog.js';
import type { Run } from '../engine/run.js';

/** A log field as exported: its name and how its stored value becomes the exported type. */
export interface ExportColumn {
  name: string;
  /** Wraps a SQL expression of the stored value: whole numbers → BIGINT, booleans → BOOLEAN, else as stored. */
  cast: (expression: string) => string;
}

/**
 * The run's exportable fields: scalars (one per event) and per-uid vectors (`uid` first). The
 * engine stores numbers and booleans as DOUBLE; true/false fields are exported as BOOLEAN, and
 * scalars that only ever held whole numbers (block, _step, best_uid) as BIGINT. Per-uid numbers
 * stay DOUBLE: a reward vector can hold only 0.0 and 1.0, which JSON cannot tell from integers.
 * A scalar that shares its name with a per-uid vector is left to the vector.
 */
export function exportColumns(
  run: Run,
  storedTypes: ReadonlyMap<string, string>,
  fields: readonly FieldStat[],
): { scalars: ExportColumn[]; vectors: ExportColumn[] } {
  const stats = new Map(fields.map((f) => [`${f.role}:${f.path}`, f]));
  const vectorNames = uidColumns(run).filter((c) => c !== 'uid');
  const clash = new Set([...vectorNames, 'uid', 'uids', 'pos']);
  return {
    scalars: scalarColumns(run)
      .filter((c) => !clash.has(c))
      .map((c) => ({ name: c, cast: castFor(stats.get(`scalar:${c}`), storedTypes.get(c), true) })),
    vectors: [
      { name: 'uid', cast: (e) => e },
      ...vectorNames.map((c) => ({ name: c, cast: castFor(stats.get(`per-uid:${c}`), 'DOUBLE', false) })),
    ],
  };
}

function castFor(
  stat: FieldStat | undefined,
  stored: string | undefined,
  integers: boolean,
): (expression: string) => string {
  if (stored !== 'DOUBLE') return (e) => e;
  const kinds = Object.entries(stat?.types ?? {})
    .filter(([type, n]) => (n ?? 0) > 0 && type !== 'null')
    .map(([type]) => type);
  if (kinds.length === 1 && kinds[0] === 'bool') return (e) => `CAST(${e} AS BOOLEAN)`;
  // Text in a numeric column was "" or unparsable and is stored as NULL (FileTAO's best_uid: int or "").
  if (integers && kinds.includes('int') && kinds.every((k) => k === 'int' || k === 'string'))
    return (e) => `TRY_CAST(${e} AS BIGINT)`;
  return (e) => e;
}
