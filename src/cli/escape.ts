/**
 * Makes a user-supplied string safe to print on a terminal: control characters (C0, DEL, C1 — ANSI
 * escape sequences, newlines, carriage returns, backspaces) and Unicode line/paragraph separators and
 * bidirectional overrides become visible escapes (\n, \x1b, \u202e), so an app name cannot move the
 * cursor, recolour, rewrite or fake lines of `cinder apps`, `status`, `nodes` or a `logs` header.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function esc(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** esc for multi-line text (error messages, stack traces): each line escaped, its line breaks kept. */
export function escLines(s: string): string {
  return s.split('\n').map(esc).join('\n');
}
