/**
 * The RM's keys and the tokens it mints: AM tokens (one per attempt launch), container tokens (one per
 * allocation, also for its own AM launches) and user tokens (identities). Also the RM server's
 * `secretFor`: "cluster" is the NMs' daemon secret; a token identifier's secret is its password,
 * recomputed from the key, for an unexpired AM or user token.
 */
import type { ContainerInfo, Token, UserIdentity } from '../../protocol/cluster.js';
import { DEFAULT_IDENTITY_TTL_MS, issueIdentity } from '../security/identity.js';
import { containerTokenKey, loadOrCreateMasterKey } from '../security/keys.js';
import { isExpired, mintToken, parseIdentifier, tokenPassword } from '../security/tokens.js';

/** AM tokens outlive any attempt a dev or test cluster runs; YARN rolls the AMRM key instead. */
const AM_TOKEN_TTL_MS = 30 * 86_400_000;

export class RmTokens {
  private constructor(
    private readonly master: Buffer,
    readonly containerKey: Buffer,
    private readonly clusterSecret: string,
    private readonly containerTtlMs: number,
    private readonly clock: () => number,
  ) {}

  static load(rmDir: string, clusterSecret: string, containerTtlMs: number, clock: () => number): RmTokens {
    return new RmTokens(
      loadOrCreateMasterKey(rmDir),
      containerTokenKey(clusterSecret),
      clusterSecret,
      containerTtlMs,
      clock,
    );
  }

  amToken(attemptId: string, appId: string, user: string): Token {
    return mintToken(this.master, { kind: 'am', attemptId, appId, user, exp: this.clock() + AM_TOKEN_TTL_MS });
  }

  /**
   * The container with a token for it: valid on its node only, until the allocation expiry has long passed;
   * it carries the uid the user's containers run as (user-uids.ts).
   */
  withToken(c: ContainerInfo, user: string, uid: number | undefined): ContainerInfo {
    const token = mintToken(this.containerKey, {
      kind: 'container',
      containerId: c.id,
      appId: c.appId,
      nodeId: c.nodeId,
      resource: c.resource,
      user,
      ...(uid === undefined ? {} : { uid }),
      exp: this.clock() + this.containerTtlMs,
    });
    return { ...c, token };
  }

  identity(name: string, admin: boolean, ttlMs = DEFAULT_IDENTITY_TTL_MS): UserIdentity {
    return issueIdentity(this.master, name, admin, ttlMs, this.clock());
  }

  /** The RPC server's secretFor: the daemon secret, or an unexpired AM/user token's password. */
  secretFor = (principal: string): string | undefined => {
    if (principal === 'cluster') return this.clusterSecret;
    const id = parseIdentifier(principal);
    if (!id || id.kind === 'container' || isExpired(id, this.clock())) return undefined;
    return tokenPassword(this.master, principal);
  };

  /** A REST bearer token's user, or undefined (bad signature, not a user token, expired). */
  userOfBearer(t: Token): { user: string; admin: boolean } | undefined {
    const id = parseIdentifier(t.identifier);
    if (id?.kind !== 'user' || isExpired(id, this.clock())) return undefined;
    const want = tokenPassword(this.master, t.identifier);
    if (want.length !== t.password.length || !timingSafeEqualStr(want, t.password)) return undefined;
    return { user: id.name, admin: id.admin };
  }
}

function timingSafeEqualStr(a: string, b: string): boolean {
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}
