/** A safe file name for a download: `<run>_<what>.<ext>`, letters, digits, `-`, `_` and `.` only. */
export function downloadName(runId: string, what: string, extension: string): string {
  const slug = (text: string): string =>
    text
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 80) || 'run';
  return `${slug(runId === '.' ? 'run' : runId)}_${slug(what)}.${extension}`;
}
