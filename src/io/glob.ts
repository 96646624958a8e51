/**
 * A small glob matcher for one path segment (Hadoop GlobPattern subset): `*`, `?`, `[abc]`, `[!a-z]` / `[^a-z]`,
 * `{a,b}` (nestable) and `\` escapes. Owns pattern → RegExp translation only; it must not touch the file system
 * (expansion lives in paths.ts).
 */
import { CinderError } from '../common/errors.js';

/** True if the segment contains an unescaped glob metacharacter. */
export function hasGlob(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[' || c === '{') return true;
  }
  return false;
}

const REGEX_SPECIAL = /[.+^$()|\\/[\]{}*?]/;

/**
 * Translates one glob segment into an anchored RegExp.
 * @example globToRegExp('part-{0,1}*.txt').test('part-1.txt') // true
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braceDepth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\') {
      const n = glob[++i];
      if (n === undefined) throw badGlob(glob, 'it ends with a lone backslash');
      re += REGEX_SPECIAL.test(n) ? `\\${n}` : n;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) throw badGlob(glob, `the '[' at position ${i} is never closed`);
      let body = glob.slice(i + 1, close);
      let neg = false;
      if (body[0] === '!' || body[0] === '^') {
        neg = true;
        body = body.slice(1);
      }
      // keep ranges (a-z); escape everything else that is special inside a class
      body = body.replace(/[\\\]^[]/g, (m) => `\\${m}`);
      re += `[${neg ? '^' : ''}${body}]`;
      i = close;
    } else if (c === '{') {
      braceDepth++;
      re += '(?:';
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--;
      re += ')';
    } else if (c === ',' && braceDepth > 0) re += '|';
    else re += REGEX_SPECIAL.test(c) ? `\\${c}` : c;
  }
  if (braceDepth > 0) throw badGlob(glob, "a '{' is never closed");
  return new RegExp(`^${re}$`, 's');
}

function badGlob(glob: string, why: string): CinderError {
  return new CinderError('BAD_GLOB', `Invalid glob pattern '${glob}': ${why}`, 'escape literal characters with \\');
}

/** Splits a comma-separated path list, ignoring commas inside `{...}` (so `data/{a,b}/x,other` is two paths). */
export function splitPathList(paths: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < paths.length; i++) {
    const c = paths[i] as string;
    if (c === '\\' && i + 1 < paths.length) {
      cur += c + paths[++i];
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}
