/** Splits a " · "-joined caption into lines of about `width` characters. */
export function captionLines(caption: string, width: number): string[] {
  const lines: string[] = [];
  for (const part of caption.split(' · ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 3 + part.length <= width) lines[last] += ` · ${part}`;
    else lines.push(part);
  }
  return lines;
}
