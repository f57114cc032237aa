/**
 * An event shape the writer can check before writing. `check` lists every problem in words a person
 * can act on (field, expected, found); an empty list means the event is valid.
 */
export interface EventSchema<E extends object> {
  readonly name: string;
  check(event: unknown): string[];
  /** Carries the event type for inference only; never set. */
  readonly eventType?: E;
}

/** A write refused by `validate: true`. `problems` holds one sentence per problem. */
export class EventValidationError extends TypeError {
  constructor(
    readonly schema: string,
    readonly problems: string[],
  ) {
    super(`invalid ${schema}: ${problems.join('; ')}`);
    this.name = 'EventValidationError';
  }
}

type Verdict = boolean | { index: number; expected: string; found: unknown };

/** What one field must hold. `perUid` fields must have as many entries as `uids`. */
export interface FieldSpec {
  expected: string;
  valid: (value: unknown) => Verdict;
  optional?: boolean;
  perUid?: boolean;
}

export const anInteger: FieldSpec = { expected: 'an integer', valid: (v) => Number.isInteger(v) };
export const aNumber: FieldSpec = { expected: 'a number', valid: (v) => typeof v === 'number' };
export const aString: FieldSpec = { expected: 'a string', valid: (v) => typeof v === 'string' };
export const aBoolean: FieldSpec = { expected: 'true or false', valid: (v) => typeof v === 'boolean' };

export function oneOf(values: readonly (string | number)[], expected?: string): FieldSpec {
  return {
    expected: expected ?? `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    valid: (v) => values.includes(v as string | number),
  };
}

export function either(a: FieldSpec, b: FieldSpec): FieldSpec {
  return {
    expected: `${a.expected} or ${b.expected}`,
    valid: (v) => a.valid(v) === true || b.valid(v) === true,
  };
}

export const nothing: FieldSpec = { expected: 'null', valid: (v) => v === null };

export function listOf(item: FieldSpec, itemsText: string): FieldSpec {
  return {
    expected: `a list of ${itemsText}`,
    valid: (v) => {
      if (!Array.isArray(v)) return false;
      for (let index = 0; index < v.length; index++) {
        if (item.valid(v[index]) !== true) return { index, expected: item.expected, found: v[index] };
      }
      return true;
    },
  };
}

/** A schema from field specs: required fields, types, and per-uid lists aligned with `uids`. */
export function defineSchema<E extends object>(
  name: string,
  fields: Record<string, FieldSpec>,
): EventSchema<E> {
  return { name, check: (event) => checkFields(event, fields) };
}

/** Checks the declared fields; extra fields are allowed. */
export function checkFields(
  event: unknown,
  fields: Record<string, FieldSpec>,
  perUidExempt = false,
): string[] {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return [`expected an object (one event), found ${describe(event)}`];
  }
  const record = event as Record<string, unknown>;
  const problems: string[] = [];
  for (const [field, spec] of Object.entries(fields)) {
    const value = record[field];
    if (value === undefined) {
      if (!spec.optional) problems.push(`${field} is missing (expected ${spec.expected})`);
      continue;
    }
    const verdict = spec.valid(value);
    if (verdict === false) problems.push(`${field}: expected ${spec.expected}, found ${describe(value)}`);
    else if (verdict !== true) {
      problems.push(
        `${field}[${verdict.index}]: expected ${verdict.expected}, found ${describe(verdict.found)}`,
      );
    }
  }
  if (!perUidExempt) {
    const perUid = Object.entries(fields)
      .filter(([, spec]) => spec.perUid)
      .map(([field]) => field);
    problems.push(...checkAlignedWithUids(record, perUid));
  }
  return problems;
}

/** "rewards has 19 entries but uids has 20", for each listed field that is a list of another length. */
export function checkAlignedWithUids(record: Record<string, unknown>, fields: Iterable<string>): string[] {
  const uids = record.uids;
  if (!Array.isArray(uids)) return [];
  const problems: string[] = [];
  for (const field of fields) {
    const value = record[field];
    if (Array.isArray(value) && value.length !== uids.length) {
      problems.push(`${field} has ${value.length} ${entries(value.length)} but uids has ${uids.length}`);
    }
  }
  return problems;
}

function entries(count: number): string {
  return count === 1 ? 'entry' : 'entries';
}

/** A short description of a found value for messages: `"12" (string)`, `null`, `a list of 3`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)} (string)`;
  }
  if (typeof value === 'object') return 'an object';
  return `${String(value)} (${typeof value})`;
}
