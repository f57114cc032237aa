/**
 * Number and string formatting that matches Python's `json.dumps`, so simulated logs are byte-for-byte
 * what the real validators and trainers write: floats always carry a decimal point or exponent
 * (`1.0`, `7e-05`, `-0.0`), non-finite floats are bare `NaN`/`Infinity` tokens.
 */
export function pyFloat(x: number): string {
  if (Number.isInteger(x)) {
    if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
    if (Math.abs(x) < 1e16) return `${x}.0`;
    return pyExponent(x);
  }
  if (x !== x) return 'NaN';
  const a = x < 0 ? -x : x;
  if (a === Infinity) return x > 0 ? 'Infinity' : '-Infinity';
  if (a >= 1e-4) return String(x);
  return pyExponent(x);
}

const POWERS = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * `pyFloat(round(x, decimals))`, fast: formats the rounded value from its integer mantissa instead of
 * the general shortest-repr path (identical text, since ≤ 15 significant digits round-trip exactly).
 */
export function pyRounded(x: number, decimals: number): string {
  const scale = POWERS[decimals];
  const m = Math.round(x * scale);
  const a = m < 0 ? -m : m;
  if (!(a >= scale * 1e-4 && a < 1e15)) return pyFloat(m / scale);
  const whole = Math.floor(a / scale);
  let fraction = (a - whole * scale) | 0;
  const sign = m < 0 ? '-' : '';
  if (fraction === 0) return `${sign}${whole}.0`;
  let digits = decimals;
  while (fraction % 10 === 0) {
    fraction = (fraction / 10) | 0;
    digits--;
  }
  // "1" + the fraction zero-padded to `digits`, minus the "1".
  return `${sign}${whole}.${String(POWERS[digits] + fraction).slice(1)}`;
}

/** Python repr in exponent form: JS "7.5e-5" → Python "7.5e-05". */
function pyExponent(x: number): string {
  const text = x.toExponential();
  const e = text.indexOf('e');
  const sign = text[e + 1];
  const digits = text.slice(e + 2);
  return `${text.slice(0, e)}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
}

/** Rounds to `decimals` places the way `round(x, n)` reads back (shortest repr of the rounded double). */
export function round(x: number, decimals: number): number {
  const scale = POWERS[decimals] ?? 10 ** decimals;
  return Math.round(x * scale) / scale;
}

/** `[a, b, c]` with Python's `", "` separator, floats via pyFloat. */
export function pyFloatList(values: ArrayLike<number>): string {
  const n = values.length;
  if (n === 0) return '[]';
  let out = '[' + pyFloat(values[0]);
  for (let i = 1; i < n; i++) out += ', ' + pyFloat(values[i]);
  return out + ']';
}

/** `[a, b, c]` of values rounded to `decimals` places (NaN stays NaN). */
export function pyRoundedList(values: ArrayLike<number>, decimals: number): string {
  const n = values.length;
  if (n === 0) return '[]';
  let out = '[' + pyRounded(values[0], decimals);
  for (let i = 1; i < n; i++) out += ', ' + pyRounded(values[i], decimals);
  return out + ']';
}

/** `[1, 2, 3]` for integers. */
export function pyIntList(values: ArrayLike<number>): string {
  const n = values.length;
  if (n === 0) return '[]';
  let out = '[' + values[0];
  for (let i = 1; i < n; i++) out += ', ' + values[i];
  return out + ']';
}

/** `["a", "b"]` for strings (escaped as JSON, ASCII only like Python's default ensure_ascii). */
export function pyStringList(values: readonly string[]): string {
  const n = values.length;
  if (n === 0) return '[]';
  let out = '[' + pyString(values[0]);
  for (let i = 1; i < n; i++) out += ', ' + pyString(values[i]);
  return out + ']';
}

/** A JSON string literal as Python writes it with ensure_ascii=True. */
export function pyString(value: string): string {
  if (!needsEscape(value)) return `"${value}"`;
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function needsEscape(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) return true;
  }
  return false;
}
