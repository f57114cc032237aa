/**
 * The reservoir's row key: a 32-bit hash of (seed, file, line, position) that SQL and JS compute
 * bit for bit alike, so the DuckDB path and the projection scanner draw the same sample. A linear
 * combination mod 2^32 followed by a 32-bit integer finaliser (xor-shift-multiply, constants below
 * 2^31 so every SQL product fits a BIGINT).
 */
const C_LINE = 0x9e3779b1;
const C_POS = 0x85ebca77;
const C_FILE = 0xc2b2ae3d;
const C_SEED = 0x27d4eb2f;
const MIX = 0x45d9f3b;
const MASK = '4294967295';

/** The seed as the unsigned 32-bit value both paths hash. */
export function sampleSeed(seed: number): number {
  return Math.trunc(seed) >>> 0;
}

export function sampleHash(seed: number, file: number, line: number, pos: number): number {
  let k =
    ((Math.imul(line, C_LINE) >>> 0) +
      (Math.imul(pos, C_POS) >>> 0) +
      (Math.imul(file, C_FILE) >>> 0) +
      (Math.imul(seed, C_SEED) >>> 0)) >>>
    0;
  k = Math.imul(k ^ (k >>> 16), MIX) >>> 0;
  k = Math.imul(k ^ (k >>> 16), MIX) >>> 0;
  return (k ^ (k >>> 16)) >>> 0;
}

/** The same hash in DuckDB SQL over BIGINT expressions (`seed` as from sampleSeed). */
export function sampleHashSql(seed: number, file: string, line: string, pos: string): string {
  const term = (expr: string, c: number): string => `((CAST(${expr} AS BIGINT) * ${c}) & ${MASK})`;
  const k = `((${term(line, C_LINE)} + ${term(pos, C_POS)} + ${term(file, C_FILE)} + ${(Math.imul(seed, C_SEED) >>> 0).toString()}) & ${MASK})`;
  const round = (x: string): string => `((xor(${x}, ${x} >> 16) * ${MIX}) & ${MASK})`;
  const k2 = round(round(k));
  return `xor(${k2}, ${k2} >> 16)`;
}
