/**
 * Record formats for text lines: JSON Lines and CSV (RFC 4180). Owns converting between a line and a value;
 * it must not do I/O. Batch functions (parseJsonLines, parseCsvLines…) are the fast path for RDD partitions.
 */
import { CinderError } from '../common/errors.js';

const EXCERPT = 120;

function excerpt(line: string): string {
  return line.length <= EXCERPT
    ? JSON.stringify(line)
    : `${JSON.stringify(line.slice(0, EXCERPT))}… (${line.length} chars)`;
}

/**
 * Parses one JSON line; a bad line throws CinderError('BAD_JSON') quoting the start of the line.
 * @example parseJsonLine('{"a":1}') // { a: 1 }
 */
export function parseJsonLine<T = unknown>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch (e) {
    throw new CinderError(
      'BAD_JSON',
      `Invalid JSON line (${(e as Error).message}): ${excerpt(line)}`,
      'each line must be one complete JSON value (JSON Lines); filter or fix bad lines before parsing',
    );
  }
}

/** Parses a batch of JSON lines, skipping blank lines (as Spark's JSON reader does). */
export function parseJsonLines<T = unknown>(lines: readonly string[]): T[] {
  const out: T[] = [];
  for (const line of lines) {
    if (line.length === 0 || line.trim().length === 0) continue;
    out.push(parseJsonLine<T>(line));
  }
  return out;
}

/**
 * Serializes one value as a JSON line (never contains a raw newline).
 * @example toJsonLine({ a: 1 }) // '{"a":1}'
 */
export function toJsonLine(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch (e) {
    throw new CinderError(
      'BAD_JSON',
      `Cannot write value as JSON: ${(e as Error).message}`,
      'convert bigint, cyclic or class values to plain JSON first',
    );
  }
  if (s === undefined) {
    throw new CinderError('BAD_JSON', `Cannot write ${typeof v} as JSON`, 'map records to plain objects/values first');
  }
  return s;
}

export function toJsonLines(values: readonly unknown[]): string[] {
  return values.map(toJsonLine);
}

export interface CsvOptions {
  /** Field separator (one character). Default ','. */
  sep?: string;
  /** Quote character (one character). Default '"'; a quote inside a quoted field is doubled. */
  quote?: string;
}

/**
 * Splits one CSV record into fields (RFC 4180). A record whose quoted field contains a newline must be passed
 * joined (with its newline). Text after a closing quote is kept literally (lenient, like Spark's PERMISSIVE mode).
 * @example parseCsvLine('a,"b,""c""",d') // ['a', 'b,"c"', 'd']
 */
export function parseCsvLine(line: string, opts: CsvOptions = {}): string[] {
  const sep = opts.sep ?? ',';
  const quote = opts.quote ?? '"';
  if (line.indexOf(quote) === -1) return line.split(sep);
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    let field = '';
    if (line.startsWith(quote, i)) {
      i += quote.length;
      for (;;) {
        const q = line.indexOf(quote, i);
        if (q === -1) {
          throw new CinderError(
            'BAD_CSV',
            `Unterminated quoted field in CSV record: ${excerpt(line)}`,
            "close the quote; a record whose quoted field holds line breaks must be parsed whole: parseCsvLines over a partition's lines, or parseCsv over a whole file (sc.wholeTextFiles)",
          );
        }
        field += line.slice(i, q);
        i = q + quote.length;
        if (line.startsWith(quote, i)) {
          field += quote; // doubled quote
          i += quote.length;
        } else break;
      }
    }
    const next = line.indexOf(sep, i);
    const end = next === -1 ? n : next;
    field += line.slice(i, end);
    out.push(field);
    if (next === -1) return out;
    i = next + sep.length;
  }
}

/** True when `s` ends inside a quoted field (an odd number of quote characters: RFC 4180 doubles them). */
function openQuote(s: string, quote: string): boolean {
  let odd = false;
  for (let i = s.indexOf(quote); i !== -1; i = s.indexOf(quote, i + quote.length)) odd = !odd;
  return odd;
}

/**
 * parseCsvLine over a batch of lines (a partition of `textFile`): a record whose quoted field holds line
 * breaks spans several lines, which are joined again (with '\n') before it is parsed. A quoted field left
 * open at the end of the batch is an error (a record split between two partitions: read such files whole,
 * see {@link parseCsv}).
 * @example parseCsvLines(['1,"two', 'lines",x', '2,b,y']) // [['1', 'two\nlines', 'x'], ['2', 'b', 'y']]
 */
export function parseCsvLines(lines: readonly string[], opts: CsvOptions = {}): string[][] {
  return parseRecords(lines, opts, false);
}

/** Joins lines into records (quote parity adds up line by line: a record ends on the line that closes its quote) and parses each. */
function parseRecords(lines: readonly string[], opts: CsvOptions, skipEmpty: boolean): string[][] {
  const quote = opts.quote ?? '"';
  const out: string[][] = [];
  for (let k = 0; k < lines.length; k++) {
    let rec = lines[k] as string;
    if (skipEmpty && rec === '') continue;
    // the fast path: no quote, or balanced quotes, on the line
    if (rec.indexOf(quote) !== -1 && openQuote(rec, quote)) {
      while (k + 1 < lines.length) {
        const next = lines[++k] as string;
        rec += `\n${next}`;
        if (openQuote(next, quote)) break;
      }
    }
    out.push(parseCsvLine(rec, opts));
  }
  return out;
}

/**
 * Parses a whole CSV text (a file from `wholeTextFiles`) into records: quoted fields may hold separators,
 * doubled quotes and line breaks (LF or CRLF). A final line break ends the last record; empty lines are
 * skipped.
 * @example parseCsv('id,note\n1,"a\nb"\n') // [['id', 'note'], ['1', 'a\nb']]
 */
export function parseCsv(text: string, opts: CsvOptions = {}): string[][] {
  return parseRecords(text.split(/\r?\n/), opts, true);
}

/**
 * Joins fields into one CSV record, quoting a field only when it contains the separator, the quote, CR or LF.
 * null and undefined become empty fields.
 * @example toCsvLine(['a', 'b,c', 1]) // 'a,"b,c",1'
 */
export function toCsvLine(fields: readonly unknown[], opts: CsvOptions = {}): string {
  const sep = opts.sep ?? ',';
  const quote = opts.quote ?? '"';
  let out = '';
  for (let k = 0; k < fields.length; k++) {
    const v = fields[k];
    const s = v === null || v === undefined ? '' : String(v);
    if (k > 0) out += sep;
    if (s.includes(sep) || s.includes(quote) || s.includes('\n') || s.includes('\r')) {
      out += quote + s.split(quote).join(quote + quote) + quote;
    } else out += s;
  }
  return out;
}

/**
 * Parses CSV lines into objects keyed by `header`. Lines equal to the header line itself are dropped (a file's
 * first line, as in Spark's `header: true`), as are empty lines. A missing field becomes '' and extra fields are
 * ignored.
 * @example csvWithHeader(['id,name', '1,ann'], ['id', 'name']) // [{ id: '1', name: 'ann' }]
 */
export function csvWithHeader(
  lines: readonly string[],
  header: readonly string[],
  opts: CsvOptions = {},
): Record<string, string>[] {
  const headerLine = toCsvLine(header, opts);
  const out: Record<string, string>[] = [];
  for (const line of lines) {
    if (line.length === 0 || line === headerLine) continue;
    const fields = parseCsvLine(line, opts);
    const rec: Record<string, string> = {};
    for (let k = 0; k < header.length; k++) rec[header[k] as string] = fields[k] ?? '';
    out.push(rec);
  }
  return out;
}
