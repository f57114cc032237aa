import type { Run } from '../engine/run.js';
import { lit, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import { cleanDuckDbMessage } from './duckdb-message.js';

/** Compiles `pattern` once in DuckDB (RE2): fails on a bad expression. */
export function regexCheckSql(pattern: string): Sql {
  return sql`SELECT regexp_matches(${lit('')}, ${lit(pattern)})`;
}

/** Compiles a regular expression in DuckDB (RE2) once, turning a bad one into a UserError. */
export async function checkRegex(run: Run, pattern: string): Promise<void> {
  try {
    await run.session.run(regexCheckSql(pattern).text);
  } catch (error) {
    throw new UserError(
      `--match "${pattern}" is not a valid regular expression: ${cleanDuckDbMessage(error)}`,
      {
        hint: 'the syntax is RE2 (like JavaScript without lookaround); add (?i) for case-insensitive matching',
      },
    );
  }
}
