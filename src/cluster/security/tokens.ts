/**
 * YARN-style tokens. A token is an identifier (what it grants: kind, subject, expiry; compact JSON,
 * base64url, prefixed "ct1.") and a password = HMAC-SHA256(key, identifier). The holder proves the
 * password through the RPC handshake by dialling with the identifier as principal and the password as
 * secret; the server recomputes the password from its key (stateless) and reads what the identifier
 * grants. Kinds:
 *   am        one application attempt (minted by the RM for each AM launch; RM master key)
 *   container one allocation: app, container, node, resource, user (RM; container-token key, which
 *             the NMs can derive too)
 *   user      a person: name and admin flag (RM master key; identity files, REST bearer tokens)
 * No I/O here: keys come from keys.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CinderError } from '../../common/errors.js';
import { z } from '../../common/zod.js';
import { Resource, Token } from '../../protocol/cluster.js';

const PREFIX = 'ct1.';

export const AmTokenId = z.object({
  kind: z.literal('am'),
  attemptId: z.string(),
  appId: z.string(),
  user: z.string(),
  exp: z.number(),
});
export const ContainerTokenId = z.object({
  kind: z.literal('container'),
  containerId: z.string(),
  appId: z.string(),
  nodeId: z.string(),
  resource: Resource,
  user: z.string(),
  /** the uid the user's containers run as on NMs that isolate them (absent: the RM assigns none) */
  uid: z.number().int().optional(),
  exp: z.number(),
});
export const UserTokenId = z.object({
  kind: z.literal('user'),
  name: z.string().min(1),
  admin: z.boolean(),
  exp: z.number(),
  /** issued at (ms): tells two identities of one user apart */
  iat: z.number(),
});
export const TokenId = z.discriminatedUnion('kind', [AmTokenId, ContainerTokenId, UserTokenId]);
export type TokenId = z.infer<typeof TokenId>;
export type TokenKind = TokenId['kind'];
export type TokenOf<K extends TokenKind> = Extract<TokenId, { kind: K }>;

export { Token };

export function tokenPassword(key: Buffer, identifier: string): string {
  return createHmac('sha256', key).update(identifier).digest('hex');
}

export function mintToken(key: Buffer, id: TokenId): Token {
  const identifier = PREFIX + Buffer.from(JSON.stringify(id)).toString('base64url');
  return { identifier, password: tokenPassword(key, identifier) };
}

/** What an identifier claims (not yet verified), or undefined when it is not a token identifier. */
export function parseIdentifier(identifier: string): TokenId | undefined {
  if (!identifier.startsWith(PREFIX) || identifier.length > 4096) return undefined;
  try {
    const r = TokenId.safeParse(JSON.parse(Buffer.from(identifier.slice(PREFIX.length), 'base64url').toString()));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export function isExpired(id: TokenId, now: number): boolean {
  return id.exp <= now;
}

/**
 * A token presented in a message (not through the handshake): checks the password against the key, the
 * kind and the expiry, and returns what it grants. Throws BAD_TOKEN / TOKEN_EXPIRED.
 */
export function verifyToken<K extends TokenKind>(key: Buffer, t: Token, kind: K, now: number): TokenOf<K> {
  const id = parseIdentifier(t.identifier);
  const want = Buffer.from(tokenPassword(key, t.identifier));
  const got = Buffer.from(t.password);
  if (!id || got.length !== want.length || !timingSafeEqual(got, want))
    throw new CinderError('BAD_TOKEN', `the ${kind} token is not one this cluster signed`);
  if (id.kind !== kind) throw new CinderError('BAD_TOKEN', `expected a ${kind} token, got a ${id.kind} token`);
  if (isExpired(id, now))
    throw new CinderError('TOKEN_EXPIRED', `the ${kind} token expired at ${new Date(id.exp).toISOString()}`);
  return id as TokenOf<K>;
}

/** REST bearer form of a token: identifier and password joined by "." (the password is hex). */
export function bearer(t: Token): string {
  return `${t.identifier}.${t.password}`;
}

export function fromBearer(s: string): Token | undefined {
  const i = s.lastIndexOf('.');
  if (i <= 0) return undefined;
  return { identifier: s.slice(0, i), password: s.slice(i + 1) };
}
