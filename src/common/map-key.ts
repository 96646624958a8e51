/** A key usable in a JS Map with value semantics for arrays/objects. */
export function mapKey(k: unknown): unknown {
  return k !== null && typeof k === 'object' ? `\u0000o${JSON.stringify(k)}` : k;
}
