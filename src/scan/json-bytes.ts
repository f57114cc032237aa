/** JSON's grammar at the byte level, shared by the scanners (extract.ts, event-walker.ts). */

export function skipSpace(buf: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const c = buf[pos];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return pos;
    pos++;
  }
  return pos;
}

/** Bytes that may end a number or literal: ",", "]", "}" and whitespace. */
export function isDelimiter(c: number): boolean {
  return c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Length of the escape sequence whose backslash is at `i`: 6 for `\uXXXX`, 2 for `\"`, `\\`, `\/`,
 * `\b`, `\f`, `\n`, `\r`, `\t`; 0 for anything JSON does not allow (or one cut off by `end`).
 */
export function escapeLength(buf: Uint8Array, i: number, end: number): number {
  const e = buf[i + 1];
  if (e === 0x75 /* u */)
    return i + 5 < end && isHex(buf[i + 2]) && isHex(buf[i + 3]) && isHex(buf[i + 4]) && isHex(buf[i + 5])
      ? 6
      : 0;
  return e === 0x22 ||
    e === 0x5c ||
    e === 0x2f ||
    e === 0x62 ||
    e === 0x66 ||
    e === 0x6e ||
    e === 0x72 ||
    e === 0x74
    ? 2
    : 0;
}

export const TRUE_BYTES = Buffer.from('true');
export const FALSE_BYTES = Buffer.from('false');
export const NULL_BYTES = Buffer.from('null');
export const NAN_BYTES = Buffer.from('NaN');
export const INFINITY_BYTES = Buffer.from('Infinity');
