/** What went wrong with one place in one file. Problems never stop the good rows around them. */
export type ProblemKind = 'corrupt' | 'truncated' | 'not-an-object' | 'unreadable' | 'too-long';

export interface ReadProblem {
  /** File name as shown to the user (relative to the run root). */
  file: string;
  /** 1-based line where the bad record starts (0 when the whole file is affected). */
  line: number;
  kind: ProblemKind;
  message: string;
}

export function formatProblem(problem: ReadProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}` : problem.file;
  return `${where}: ${problem.message}`;
}

/** A short, printable excerpt of a bad record for messages. */
export function snippet(text: string, max = 60): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
