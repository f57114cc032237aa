/**
 * ClickHouse's spelling of identifiers and literals: backquoted names and quoted text with
 * backslash escapes (in ClickHouse a backslash escapes inside both, unlike DuckDB).
 */
export function chIdent(name: string): string {
  if (name.includes('\u0000'))
    throw new Error(`an identifier cannot hold a NUL byte: ${JSON.stringify(name)}`);
  return `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
}

export function chLit(value: string | number | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (value === Infinity) return 'inf';
    if (value === -Infinity) return '-inf';
    return value < 0 ? `(${String(value)})` : String(value);
  }
  if (value.includes('\u0000')) throw new Error('a text literal cannot hold a NUL byte');
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
