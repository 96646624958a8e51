/**
 * Errors that reach users. Every CinderError says what is wrong (message) and, where we know it,
 * what to do about it (hint). Errors that cross a process boundary travel as WireError.
 */
export class CinderError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string) {
    super(hint ? `${message}\n  hint: ${hint}` : message);
    this.name = 'CinderError';
    this.code = code;
    this.hint = hint;
  }
}

/** An error as it travels between processes (a user's exception on an executor, a daemon refusal…). */
export interface WireError {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, stack: e.stack, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(e) };
}

/** Rebuilds an Error from a WireError, keeping the remote stack. */
export function fromWireError(w: WireError, prefix?: string): Error {
  const e = new Error(prefix ? `${prefix}: ${w.message}` : w.message);
  e.name = w.name;
  if (w.stack) e.stack = prefix ? `${prefix}: ${w.stack}` : w.stack;
  if (w.code) (e as { code?: string }).code = w.code;
  return e;
}
