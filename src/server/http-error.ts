/** An error with an HTTP status, turned into a clear JSON body (or an error page) by `errorHandler`. */
export class HttpError extends Error {
  readonly hint: string | undefined;
  /** Accepted values, e.g. the metrics a run has when the one asked for is unknown. */
  readonly valid: string[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    options: { hint?: string; valid?: string[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.hint = options.hint;
    this.valid = options.valid;
    this.headers = options.headers ?? {};
  }
}
