/**
 * A DuckDB error message made readable for a person: the first lines without the SQL excerpt and
 * caret (they point into runlens's generated query, not the user's text).
 */
export function cleanDuckDbMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines: string[] = [];
  for (const line of message.split('\n')) {
    if (/^LINE \d+:/.test(line)) break;
    if (line.trim() !== '') lines.push(line.trim());
  }
  return lines
    .join(' ')
    .replace(/ in FROM clause!/, '')
    .replace(/!$/, '');
}
