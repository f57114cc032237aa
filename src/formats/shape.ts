/**
 * The shape of JSON values seen in a log's records: which JSON kinds each path held, and for objects
 * and lists, what they held. Probes merge the records they sample into one shape; the engine
 * declares DuckDB's columns from it (see declaredType).
 */
export type ValueKind = 'int' | 'float' | 'nan' | 'bool' | 'string' | 'null' | 'list' | 'object';

export interface Shape {
  /** Values seen, by kind. */
  kinds: Partial<Record<ValueKind, number>>;
  /** Members of the objects seen (in order of first appearance). */
  fields?: Map<string, Shape>;
  /** The values held by the lists seen. */
  items?: Shape;
  /** Longest list seen (for lists). */
  maxLength?: number;
  /** Kind of the first value that decides a column's type: not null, not empty text. */
  first?: ValueKind;
}

export function emptyShape(): Shape {
  return { kinds: {} };
}

export function kindOf(value: unknown): ValueKind {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? (Number.isInteger(value) ? 'int' : 'float') : 'nan';
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

/** Objects with more members than this are declared as JSON text (keyed by ids, not fields). */
export const MAX_OBJECT_FIELDS = 256;

/** Adds one value to a shape. */
export function addValue(shape: Shape, value: unknown): void {
  const kind = kindOf(value);
  shape.kinds[kind] = (shape.kinds[kind] ?? 0) + 1;
  if (shape.first === undefined && kind !== 'null' && value !== '') shape.first = kind;
  if (kind === 'object') {
    shape.fields ??= new Map();
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      let field = shape.fields.get(key);
      if (field === undefined) {
        if (shape.fields.size > MAX_OBJECT_FIELDS) continue;
        field = emptyShape();
        shape.fields.set(key, field);
      }
      addValue(field, member);
    }
  } else if (kind === 'list') {
    const list = value as unknown[];
    shape.items ??= emptyShape();
    shape.maxLength = Math.max(shape.maxLength ?? 0, list.length);
    for (const item of list) addValue(shape.items, item);
  }
}

/** Merges `from` into `into` (shapes of two files). */
export function mergeShape(into: Shape, from: Shape): void {
  into.first ??= from.first;
  for (const [kind, n] of Object.entries(from.kinds) as [ValueKind, number][])
    into.kinds[kind] = (into.kinds[kind] ?? 0) + n;
  if (from.fields) {
    into.fields ??= new Map();
    for (const [key, field] of from.fields) {
      const known = into.fields.get(key);
      if (known) mergeShape(known, field);
      else if (into.fields.size <= MAX_OBJECT_FIELDS) into.fields.set(key, cloneShape(field));
    }
  }
  if (from.items) {
    into.items ??= emptyShape();
    mergeShape(into.items, from.items);
  }
  if (from.maxLength !== undefined) into.maxLength = Math.max(into.maxLength ?? 0, from.maxLength);
}

export function cloneShape(shape: Shape): Shape {
  const copy = emptyShape();
  mergeShape(copy, shape);
  return copy;
}

const has = (shape: Shape, kind: ValueKind): boolean => (shape.kinds[kind] ?? 0) > 0;

/** Kinds other than null. */
function present(shape: Shape): ValueKind[] {
  return (Object.keys(shape.kinds) as ValueKind[]).filter((k) => k !== 'null' && (shape.kinds[k] ?? 0) > 0);
}

/** What a shape is declared as: a DuckDB type for its values. */
export type Declared =
  | { type: 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' | 'JSON' }
  | { type: 'STRUCT'; fields: Map<string, Declared> }
  | { type: 'LIST'; item: 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' | 'JSON' };

/**
 * The DuckDB type that reads every value of this shape without a cast error: numbers DOUBLE,
 * booleans BOOLEAN (numbers and booleans mixed: DOUBLE, as DuckDB reads true as 1), text VARCHAR,
 * objects STRUCTs of their members, lists of scalars typed lists; anything mixed (a number or
 * text, lists of objects) JSON, which the normalisation converts value by value.
 */
export function declaredType(shape: Shape): Declared {
  const kinds = present(shape);
  if (kinds.length === 0) return { type: 'JSON' };
  const numeric = kinds.every((k) => k === 'int' || k === 'float' || k === 'nan' || k === 'bool');
  if (numeric) return { type: kinds.every((k) => k === 'bool') ? 'BOOLEAN' : 'DOUBLE' };
  if (kinds.length === 1 && kinds[0] === 'string') return { type: 'VARCHAR' };
  if (kinds.length === 1 && kinds[0] === 'object') {
    if (!shape.fields || shape.fields.size === 0 || shape.fields.size > MAX_OBJECT_FIELDS)
      return { type: 'JSON' };
    return { type: 'STRUCT', fields: new Map([...shape.fields].map(([k, f]) => [k, declaredType(f)])) };
  }
  if (kinds.length === 1 && kinds[0] === 'list') {
    const items = shape.items ?? emptyShape();
    const item = declaredType(items);
    if (present(items).length === 0) return { type: 'LIST', item: 'DOUBLE' };
    if (item.type === 'STRUCT' || item.type === 'LIST') return { type: 'JSON' };
    return { type: 'LIST', item: item.type };
  }
  return { type: 'JSON' };
}

/** Whether the shape's object members include `key` with a value that is a number. */
export function hasNumberField(shape: Shape, key: string): boolean {
  const field = shape.fields?.get(key);
  return field !== undefined && (has(field, 'int') || has(field, 'float'));
}

interface ShapeJson {
  kinds: Shape['kinds'];
  fields?: [string, ShapeJson][];
  items?: ShapeJson;
  maxLength?: number;
  first?: ValueKind;
}

/** A shape as JSON (kept in the run index). */
export function shapeToJson(shape: Shape): ShapeJson {
  return {
    kinds: shape.kinds,
    ...(shape.fields
      ? { fields: [...shape.fields].map(([k, f]): [string, ShapeJson] => [k, shapeToJson(f)]) }
      : {}),
    ...(shape.items ? { items: shapeToJson(shape.items) } : {}),
    ...(shape.maxLength !== undefined ? { maxLength: shape.maxLength } : {}),
    ...(shape.first !== undefined ? { first: shape.first } : {}),
  };
}

export function shapeFromJson(json: ShapeJson): Shape {
  return {
    kinds: { ...json.kinds },
    ...(json.fields ? { fields: new Map(json.fields.map(([k, f]) => [k, shapeFromJson(f)])) } : {}),
    ...(json.items ? { items: shapeFromJson(json.items) } : {}),
    ...(json.maxLength !== undefined ? { maxLength: json.maxLength } : {}),
    ...(json.first !== undefined ? { first: json.first } : {}),
  };
}

/** The shape of an object holding `values` at the member path `keys` (the shape a probe would add). */
export function shapeAt(keys: readonly string[], values: readonly unknown[]): Shape {
  const root = emptyShape();
  let node = root;
  for (const key of keys) {
    node.kinds.object = (node.kinds.object ?? 0) + values.length;
    node.first ??= 'object';
    node.fields = new Map([[key, emptyShape()]]);
    node = node.fields.get(key)!;
  }
  for (const value of values) addValue(node, value);
  return root;
}
