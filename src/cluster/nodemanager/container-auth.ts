/**
 * What the NodeManager accepts, and from whom. Two kinds of caller reach its ToNm handler:
 *   rm  the connection this NM dialled to the RM (authenticated with the cluster secret)
 *   app an AM that dialled the NM's port with a container token of its app (principal = the token's
 *       identifier, secret = its password, recomputed here from the container-token key)
 * A StartContainer from either must carry a valid, unexpired container token for this node and exactly
 * that container (id, app, resource); the user is the token's. An app caller may stop, list and read
 * the logs of its own app's containers only.
 */
import { CinderError } from '../../common/errors.js';
import type { ContainerInfo, ToNm } from '../../protocol/cluster.js';
import { parseIdentifier, type TokenOf, tokenPassword, verifyToken } from '../security/tokens.js';

export type NmCaller = { kind: 'rm' } | { kind: 'app'; appId: string };

/** The NM server's secretFor: a container token identifier's password (any container token of this cluster). */
export function nmSecretFor(key: Buffer): (principal: string) => string | undefined {
  return (principal) => (parseIdentifier(principal)?.kind === 'container' ? tokenPassword(key, principal) : undefined);
}

export function nmCallerOf(principal: string): NmCaller {
  const id = parseIdentifier(principal);
  // the handshake admitted only container tokens: anything else here is a bug, and gets no rights
  return { kind: 'app', appId: id?.kind === 'container' ? id.appId : '' };
}

/** Checks a StartContainer's token; returns what it grants (the user the container runs for). */
export function checkStart(
  key: Buffer,
  nodeId: string,
  m: Extract<ToNm, { type: 'StartContainer' }>,
  from: NmCaller,
  now: number,
): TokenOf<'container'> {
  const c: ContainerInfo = m.container;
  if (!c.token)
    throw new CinderError(
      'NO_CONTAINER_TOKEN',
      `StartContainer ${c.id} refused: no container token (the ResourceManager signs one for every allocation)`,
    );
  const t = verifyToken(key, c.token, 'container', now);
  const bad = (why: string) =>
    new CinderError('BAD_CONTAINER_TOKEN', `StartContainer ${c.id} refused: the container token ${why}`);
  if (t.nodeId !== nodeId) throw bad(`is for node ${t.nodeId}, not this node ${nodeId}`);
  if (t.containerId !== c.id) throw bad(`is for container ${t.containerId}`);
  if (t.appId !== c.appId) throw bad(`is for application ${t.appId}, not ${c.appId}`);
  if (t.resource.memoryMB !== c.resource.memoryMB || t.resource.vcores !== c.resource.vcores)
    throw bad(`is for ${t.resource.memoryMB} MB / ${t.resource.vcores} vcores, not what was asked`);
  if (from.kind === 'app' && from.appId !== t.appId)
    throw bad(`belongs to ${t.appId}, but this connection is for ${from.appId}`);
  return t;
}

/** An app caller may act only on containers of its app. */
export function checkAppScope(from: NmCaller, appId: string, what: string): void {
  if (from.kind === 'app' && from.appId !== appId)
    throw new CinderError(
      'ACCESS_DENIED',
      `${what} refused: this connection is for ${from.appId || 'no application'}, not ${appId}`,
    );
}
