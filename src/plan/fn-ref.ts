/**
 * A shipped function as it travels in a plan: its source, its captured values and the imports bundle
 * it uses. Made on the driver by src/api/closure.ts, compiled on executors by src/executor/fn-loader.ts.
 */

/** v: data; f: a function; b/a: broadcast/accumulator by id; r: back-reference to an enclosing FnRef (recursion) */
export type CapRef =
  | { t: 'v'; v: unknown }
  | { t: 'f'; f: FnRef }
  | { t: 'b'; id: number }
  | { t: 'a'; id: number; terms?: true }
  | { t: 'r'; rid: number };

export interface FnRef {
  /** sha256 (hex) of src + caps + imports; executors cache compiled functions by it */
  hash: string;
  /** fn.toString() */
  src: string;
  caps: Record<string, CapRef>;
  /** imports bundle id + the imported binding names this function uses */
  imports?: { id: string; names: string[] };
  /** where src starts in the driver-side JS text of its file (1-based line, 0-based column) */
  origin?: { file: string; line: number; column: number };
  /** set when a nested capture refers back to this function ({ t: 'r', rid }) */
  rid?: number;
}
