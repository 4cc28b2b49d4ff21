/**
 * Domain errors carry a stable machine-readable code next to a human message.
 * Codes never change once published: scripts and tests match on them.
 */
export class HbError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HbError';
    this.code = code;
  }
}

/** Returns a message for any thrown value without assuming it is an Error. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
