/**
 * Limits on the free text clients, AMs and nodes send (names, queues, tags, diagnostics) and the two
 * ways they are enforced: refused with a message naming the field and the limit (names), or clipped
 * with a visible marker when stored and returned (diagnostics, which come from failures and may be
 * long). See docs/decisions/0014-limits.md. Owns the numbers and the clip only.
 */
export const LIMITS = {
  /** application name */
  appName: 256,
  /** queue path */
  queue: 256,
  /** one tag, and how many */
  tag: 128,
  tags: 64,
  applicationType: 64,
  /** user names, node labels, hosts, ids */
  shortText: 256,
  /** tracking URLs */
  url: 2048,
  /** a kill reason */
  reason: 1024,
  /** diagnostics are stored and returned clipped to this many characters */
  diagnostics: 4096,
  /** containers in one ask */
  askCount: 10_000,
  /** entries in one Allocate's asks / releases */
  asks: 1_000,
  releases: 10_000,
  /** ACL entries */
  aclEntries: 1_000,
} as const;

/** s, or its first max characters and a marker saying how much was cut. */
export function clip(s: string, max: number = LIMITS.diagnostics): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max)}… [${s.length - max} more characters truncated]`;
}
