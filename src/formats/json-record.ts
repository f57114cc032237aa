/**
 * JSON.parse that also accepts the bare tokens Python's json module writes for non-finite floats:
 * `NaN`, `Infinity`, `-Infinity`. Strict JSON goes through the native parser untouched; only text
 * that fails is rescanned, with the tokens outside strings replaced by sentinels that are turned
 * back into numbers after parsing.
 */
const NAN_SENTINEL = '\u0000runlens:NaN';
const POS_INF_SENTINEL = '\u0000runlens:+Inf';
const NEG_INF_SENTINEL = '\u0000runlens:-Inf';

export function parseJsonRecord(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const replaced = replaceNonFiniteTokens(text);
    if (replaced === undefined) throw error;
    return restoreNonFinite(JSON.parse(replaced));
  }
}

/** Returns the text with NaN/Infinity tokens (outside strings) quoted as sentinels, or undefined if none. */
function replaceNonFiniteTokens(text: string): string | undefined {
  let out = '';
  let last = 0;
  let found = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    let token: string | undefined;
    let length = 0;
    if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      token = NAN_SENTINEL;
      length = 3;
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      token = POS_INF_SENTINEL;
      length = 8;
    } else if (c === 45 /* - */ && text.startsWith('-Infinity', i)) {
      token = NEG_INF_SENTINEL;
      length = 9;
    }
    if (token !== undefined) {
      out += text.slice(last, i) + JSON.stringify(token);
      i += length - 1;
      last = i + 1;
      found = true;
    }
  }
  return found ? out + text.slice(last) : undefined;
}

function sentinelValue(value: string): number | undefined {
  if (value.charCodeAt(0) !== 0) return undefined;
  if (value === NAN_SENTINEL) return NaN;
  if (value === POS_INF_SENTINEL) return Infinity;
  if (value === NEG_INF_SENTINEL) return -Infinity;
  return undefined;
}

function restoreNonFinite(value: unknown): unknown {
  if (typeof value === 'string') return sentinelValue(value) ?? value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item === 'string') {
        const number = sentinelValue(item);
        if (number !== undefined) value[i] = number;
      } else if (item !== null && typeof item === 'object') restoreNonFinite(item);
    }
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = restoreNonFinite(record[key]);
  }
  return value;
}

/** JSON.stringify that writes NaN/Infinity as the bare tokens Python and runlens read back. */
export function stringifyJsonRecord(value: unknown): string {
  let hasNonFinite = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      hasNonFinite = true;
      return Number.isNaN(v) ? NAN_SENTINEL : v > 0 ? POS_INF_SENTINEL : NEG_INF_SENTINEL;
    }
    return v;
  });
  if (!hasNonFinite) return text;
  return text
    .replaceAll(JSON.stringify(NAN_SENTINEL), 'NaN')
    .replaceAll(JSON.stringify(POS_INF_SENTINEL), 'Infinity')
    .replaceAll(JSON.stringify(NEG_INF_SENTINEL), '-Infinity');
}
