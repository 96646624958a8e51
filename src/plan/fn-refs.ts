/**
 * Finding the shipped functions inside plans and result ops (the driver serves their import bundles,
 * the executor compiles them). A leaf module: the driver loads it without any executor code.
 */
import type { FnRef } from './fn-ref.js';

export function isFnRef(v: unknown): v is FnRef {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as FnRef).src === 'string' &&
    typeof (v as FnRef).hash === 'string' &&
    'caps' in (v as object)
  );
}

/** Every FnRef in a value (plans, result ops), nested captures included. */
export function collectFnRefs(v: unknown, out: FnRef[] = []): FnRef[] {
  if (v === null || typeof v !== 'object') return out;
  if (isFnRef(v)) {
    out.push(v);
    for (const c of Object.values(v.caps)) if (c.t === 'f') collectFnRefs(c.f, out);
    return out;
  }
  if (Array.isArray(v)) for (const x of v) collectFnRefs(x, out);
  else for (const x of Object.values(v)) collectFnRefs(x, out);
  return out;
}
