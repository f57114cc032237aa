/** How a field was stored: a per-event scalar, a per-uid vector, a list indexed by uid, or not at all. */
export type FieldRole = 'scalar' | 'per-uid' | 'uid-indexed' | 'unstored';

export type ValueType = 'int' | 'float' | 'nan' | 'bool' | 'string' | 'null' | 'list' | 'object';

export interface FieldStat {
  path: string;
  role: FieldRole;
  /** Events in which the field occurs. */
  events: number;
  /** Values seen, by JSON type (per-uid and indexed lists count their elements). */
  types: Partial<Record<ValueType, number>>;
}

/** Field catalogue built while ingesting: which paths exist, in which role, with which types. */
export class FieldCatalog {
  private readonly fields = new Map<string, FieldStat>();

  private stat(path: string, role: FieldRole): FieldStat {
    const key = `${role}\u0000${path}`;
    let stat = this.fields.get(key);
    if (stat === undefined) {
      stat = { path, role, events: 0, types: {} };
      this.fields.set(key, stat);
    }
    return stat;
  }

  scalar(path: string, type: ValueType): void {
    const stat = this.stat(path, 'scalar');
    stat.events++;
    stat.types[type] = (stat.types[type] ?? 0) + 1;
  }

  unstored(path: string, type: ValueType): void {
    const stat = this.stat(path, 'unstored');
    stat.events++;
    stat.types[type] = (stat.types[type] ?? 0) + 1;
  }

  list(path: string, role: 'per-uid' | 'uid-indexed', values: readonly unknown[]): void {
    const stat = this.stat(path, role);
    stat.events++;
    for (const value of values) {
      const type = typeOfValue(value);
      stat.types[type] = (stat.types[type] ?? 0) + 1;
    }
  }

  all(): FieldStat[] {
    return [...this.fields.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

export function typeOfValue(value: unknown): ValueType {
  switch (typeof value) {
    case 'number':
      return Number.isNaN(value) || !Number.isFinite(value)
        ? 'nan'
        : Number.isInteger(value)
          ? 'int'
          : 'float';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'list' : 'object';
    default:
      return 'null';
  }
}

/** "int", "float|null", "string|int" — the types a field holds, most common first. */
export function describeTypes(types: Partial<Record<ValueType, number>>): string {
  return Object.entries(types)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([type]) => type)
    .join('|');
}
