/**
 * An error meant for a person: what was expected, what was found, where, and what to do.
 * The CLI prints `message` (and `hint`) without a stack trace unless `--verbose` is given.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
