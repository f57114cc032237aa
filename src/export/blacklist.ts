import { readFileSync } from 'node:fs';
import { quoteString } from '../engine/session.js';
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

/** SQL: does the completion contain phrase i (case-insensitive substring)? Never NULL. */
export function phraseMatch(phrase: string, column = 'completions'): string {
  return `coalesce(contains(lower(${column}), lower(${quoteString(phrase)})), false)`;
}

/** SQL condition keeping rows that contain none of the phrases. */
export function blacklistCondition(phrases: readonly string[]): string {
  return `NOT (${phrases.map((p) => phraseMatch(p)).join(' OR ')})`;
}

/**
 * A query counting, over `relation` (the rows an export would keep without the blacklist), the rows
 * containing each phrase (m0, m1, …) and the rows removed on account of each (r0, r1, …: the first
 * listed phrase a row contains), in one scan.
 */
export function blacklistCountQuery(phrases: readonly string[], relation: string): string {
  const first = `CASE ${phrases.map((p, i) => `WHEN ${phraseMatch(p)} THEN ${i}`).join(' ')} END`;
  const counts = phrases.flatMap((p, i) => [
    `CAST(count(*) FILTER (WHERE ${phraseMatch(p)}) AS DOUBLE) AS m${i}`,
    `CAST(count(*) FILTER (WHERE first = ${i}) AS DOUBLE) AS r${i}`,
  ]);
  return `SELECT ${counts.join(', ')} FROM (SELECT completions, ${first} AS first FROM ${relation})`;
}
