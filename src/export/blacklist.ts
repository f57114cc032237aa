import { readFileSync } from 'node:fs';
import { ident, join, lit, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';

export interface PhraseCount {
  phrase: string;
  /** Rows whose completion contains the phrase. */
  matched: number;
  /** Rows removed on account of this phrase (the first listed phrase a row contains); these sum to the total removed. */
  removed: number;
}

/** Reads a blacklist: one phrase per line, surrounding whitespace trimmed, blank lines skipped. */
export function readBlacklist(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the blacklist ${file}: ${(error as Error).message}`, {
      hint: 'pass a text file with one phrase per line',
    });
  }
  const phrases = [
    ...new Set(
      text
        .replace(/^\uFEFF/, '')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    ),
  ];
  if (!phrases.length)
    throw new UserError(`the blacklist ${file} holds no phrases`, { hint: 'one phrase per line' });
  return phrases;
}

/** SQL: does the completion contain the phrase (case-insensitive substring)? Never NULL. */
export function phraseMatch(phrase: string): Sql {
  return sql`coalesce(contains(lower(completions), lower(${lit(phrase)})), false)`;
}

/** SQL condition keeping rows that contain none of the phrases. */
export function blacklistCondition(phrases: readonly string[]): Sql {
  return sql`NOT (${join(phrases.map(phraseMatch), ' OR ')})`;
}

/**
 * A query counting, over `relation` (the rows an export would keep without the blacklist), the rows
 * containing each phrase (m0, m1, …) and the rows removed on account of each (r0, r1, …: the first
 * listed phrase a row contains), in one scan.
 */
export function blacklistCountQuery(phrases: readonly string[], relation: Sql): Sql {
  const first = sql`CASE ${join(
    phrases.map((p, i) => sql`WHEN ${phraseMatch(p)} THEN ${lit(i)}`),
    ' ',
  )} END`;
  const counts = phrases.flatMap((p, i) => [
    sql`CAST(count(*) FILTER (WHERE ${phraseMatch(p)}) AS DOUBLE) AS ${ident(`m${i}`)}`,
    sql`CAST(count(*) FILTER (WHERE first = ${lit(i)}) AS DOUBLE) AS ${ident(`r${i}`)}`,
  ]);
  return sql`SELECT ${counts} FROM (SELECT completions, ${first} AS first FROM ${relation})`;
}
