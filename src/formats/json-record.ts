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
  // Text that mentions a token goes straight to the tolerant path (a failed parse costs a scan).
  if (!text.includes('NaN') && !text.includes('Infinity')) return JSON.parse(text);
  // One pass over the text finds the bare tokens (strings skipped); a first JSON.parse attempt
  // would fail at the first token on nearly every such line and cost a second parse.
  const replaced = replaceNonFiniteTokens(text);
  return replaced === undefined ? JSON.parse(text) : restoreNonFinite(JSON.parse(replaced));
}

/** Strings (skipped whole, escapes included) or a bare token outside them. */
const TOKENS = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;
const SENTINEL_JSON: Record<string, string> = {
  NaN: JSON.stringify(NAN_SENTINEL),
  Infinity: JSON.stringify(POS_INF_SENTINEL),
  '-Infinity': JSON.stringify(NEG_INF_SENTINEL),
};

/** Returns the text with NaN/Infinity tokens (outside strings) quoted as sentinels, or undefined if none. */
function replaceNonFiniteTokens(text: string): string | undefined {
  let found = false;
  const out = text.replace(TOKENS, (match) => {
    if (match.charCodeAt(0) === 34) return match;
    found = true;
    return SENTINEL_JSON[match];
  });
  return found ? out : undefined;
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
