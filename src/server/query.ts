import { HttpError } from './http-error.js';

/**
 * The query parameters of one request, checked: only the parameters a route names, each at most
 * once, numbers in range, enums from their list. Every failure is a 400 that says what was expected.
 */
export class Query {
  constructor(
    private readonly url: URL,
    allowed: readonly string[],
  ) {
    const names = [...url.searchParams.keys()];
    for (const name of names) {
      if (!allowed.includes(name))
        throw new HttpError(400, `unknown query parameter "${name}"`, { valid: [...allowed] });
    }
    for (const name of new Set(names)) {
      if (url.searchParams.getAll(name).length > 1 && !name.endsWith('[]'))
        throw new HttpError(400, `query parameter "${name}" given more than once`);
    }
  }

  string(name: string): string | undefined {
    const value = this.url.searchParams.get(name) ?? undefined;
    if (value !== undefined && value.length > 1024)
      throw new HttpError(400, `query parameter "${name}" is longer than 1024 characters`);
    return value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw new HttpError(400, `missing query parameter "${name}"`);
    return value;
  }

  int(name: string, range: { min: number; max: number; default: number }): number {
    const text = this.string(name);
    if (text === undefined || text === '') return range.default;
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || value < range.min || value > range.max)
      throw new HttpError(
        400,
        `"${name}" must be a whole number from ${range.min} to ${range.max}, got "${text}"`,
      );
    return value;
  }

  number(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new HttpError(400, `"${name}" must be a finite number, got "${text}"`);
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const text = this.string(name);
    if (text === undefined || text === '') return fallback;
    if (!(values as readonly string[]).includes(text))
      throw new HttpError(400, `"${name}" must be one of ${values.join(', ')}, got "${text}"`, {
        valid: [...values],
      });
    return text as T;
  }

  /** The `run` parameter: an id as listed by /api/runs, never a path that leaves the served directory. */
  runId(): string {
    const id = this.required('run');
    checkRunId(id);
    return id;
  }
}

/** Rejects anything that is not a plain relative path inside the served directory, in any encoding. */
export function checkRunId(id: string): void {
  let decoded = id;
  try {
    for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(decoded); i++) decoded = decodeURIComponent(decoded);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in "run"');
  }
  for (const value of [id, decoded]) {
    if (/[\0\\]/.test(value) || value.startsWith('/') || value.startsWith('~') || /^[a-z]:/i.test(value))
      throw new HttpError(400, `"run" must be a run id as listed by /api/runs, not a path: "${id}"`);
    if (value !== '.' && value.split('/').some((s) => s === '..' || s === '.' || s === ''))
      throw new HttpError(400, `path traversal is not allowed in "run": "${id}"`, {
        hint: 'ask for a run by its id as listed by /api/runs',
      });
  }
}
