/**
 * Who is on an RM connection, from its authenticated principal, and what each role may send:
 *   daemon  (principal "cluster", the NMs' secret): node messages and resource fetches
 *   am      (an AM token): register/allocate/finish of its own attempt, its own app's report
 *   user    (a user token): client requests, as that user (admins by the token's flag or the RM's list)
 * Anything else is refused with ROLE_DENIED naming the role that would be needed.
 */
import { CinderError } from '../../common/errors.js';
import type { ToRm } from '../../protocol/cluster.js';
import { parseIdentifier } from '../security/tokens.js';

export type Caller =
  | { kind: 'daemon' }
  | { kind: 'am'; attemptId: string; appId: string; user: string }
  | { kind: 'user'; user: string; admin: boolean };

/** What the ACL checks know of a caller. */
export interface Principal {
  user: string;
  admin: boolean;
}

/** The caller behind an authenticated principal (the handshake already checked its password). */
export function callerOf(principal: string): Caller | undefined {
  if (principal === 'cluster') return { kind: 'daemon' };
  const id = parseIdentifier(principal);
  if (id?.kind === 'am') return { kind: 'am', attemptId: id.attemptId, appId: id.appId, user: id.user };
  if (id?.kind === 'user') return { kind: 'user', user: id.name, admin: id.admin };
  return undefined;
}

export function describe(c: Caller | undefined): string {
  if (!c) return 'an unknown principal';
  if (c.kind === 'daemon') return 'a NodeManager (cluster credential)';
  if (c.kind === 'am') return `the AM of ${c.attemptId}`;
  return `user ${c.user}`;
}

const NODE = new Set<ToRm['type']>(['RegisterNode', 'NodeHeartbeat', 'UnregisterNode', 'UploadLogs', 'FetchResource']);
const AM = new Set<ToRm['type']>(['RegisterApplicationMaster', 'Allocate', 'FinishApplicationMaster']);

export function roleFor(type: ToRm['type']): Caller['kind'] {
  return NODE.has(type) ? 'daemon' : AM.has(type) ? 'am' : 'user';
}

/** Throws ROLE_DENIED unless this caller may send this message at all (ownership is checked later). */
export function checkRole(c: Caller | undefined, m: ToRm): void {
  const need = roleFor(m.type);
  // an AM may read its own app's report (to learn whether its lost unregister was applied)
  if (c?.kind === 'am' && m.type === 'GetApplicationReport' && m.appId === c.appId) return;
  if (c?.kind === need) return;
  const what = { daemon: 'the NodeManagers’ cluster credential', am: 'an AM token', user: 'a user identity' }[need];
  throw new CinderError(
    'ROLE_DENIED',
    `${m.type} needs ${what}; this connection is ${describe(c)}`,
    need === 'user' ? 'use a user identity (--identity FILE or CINDER_IDENTITY)' : undefined,
  );
}

/** The ACL principal of a user or AM connection. */
export function principalOf(c: Caller | undefined, admins: string[]): Principal {
  if (c?.kind === 'user') return { user: c.user, admin: c.admin || admins.includes(c.user) };
  if (c?.kind === 'am') return { user: c.user, admin: false };
  return { user: '', admin: false };
}
