import type { Run } from '../engine/run.js';
import { quoteString } from '../engine/session.js';
import { UserError } from '../errors.js';
import { cleanDuckDbMessage } from './duckdb-message.js';

/** Compiles a regular expression in DuckDB (RE2) once, turning a bad one into a UserError. */
export async function checkRegex(run: Run, pattern: string): Promise<void> {
  try {
    await run.session.run(`SELECT regexp_matches('', ${quoteString(pattern)})`);
  } catch (error) {
    throw new UserError(
      `--match "${pattern}" is not a valid regular expression: ${cleanDuckDbMessage(error)}`,
      {
        hint: 'the syntax is RE2 (like JavaScript without lookaround); add (?i) for case-insensitive matching',
      },
    );
  }
}
