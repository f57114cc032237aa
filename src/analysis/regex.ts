import { CLICKHOUSE_PREFIX, duckdb, type Dialect } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { lit, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import { cleanDuckDbMessage } from './duckdb-message.js';

/** Compiles `pattern` once (RE2, as the dialect's matches() uses it): fails on a bad expression. */
export function regexCheckSql(pattern: string, d: Dialect = duckdb): Sql {
  return sql`SELECT ${d.matches(lit(''), pattern)}`;
}

/** Compiles a regular expression (RE2) once, turning a bad one into a UserError. */
export async function checkRegex(run: QueryableRun, pattern: string): Promise<void> {
  try {
    await run.session.all(regexCheckSql(pattern, run.dialect).text);
  } catch (error) {
    throw new UserError(
      `--match "${pattern}" is not a valid regular expression: ${regexError(error, pattern)}`,
      {
        hint: 'the syntax is RE2 (like JavaScript without lookaround); add (?i) for case-insensitive matching',
      },
    );
  }
}

/**
 * RE2's complaint (`missing ): (`), the same from DuckDB's message (`Invalid Input Error: …`) and
 * from ClickHouse's (`cannot compile re2: …, error: …. Look at …`, quoting the pattern with the
 * prefix its matches() adds).
 */
function regexError(error: unknown, pattern: string): string {
  const message = cleanDuckDbMessage(error).replace(/^Invalid Input Error: /, '');
  const re2 = /cannot compile re2: .*?, error: (.*?)(?:\. Look at |$)/.exec(message)?.[1];
  return re2 === undefined ? message : re2.replace(`${CLICKHOUSE_PREFIX}${pattern}`, pattern);
}
