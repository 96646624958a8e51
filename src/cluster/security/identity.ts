/**
 * User identity files: a user token signed by the RM's master key, with the user's name, admin flag and
 * expiry in the clear for people and tools. Written 0600; a file others can read is refused. Clients
 * dial the RM with the token (principal = identifier, secret = password); `cinder token` turns it into
 * a REST bearer token. Issuing needs the master key: the RM (IssueIdentity, admins only) or an
 * operator on the RM host with its dir (`cinder cluster up` for the dev admin identity).
 */
import fs from 'node:fs';
import { CinderError } from '../../common/errors.js';
import { assertPrivate } from '../../common/private-file.js';
import { Token, type UserIdentity } from '../../protocol/cluster.js';
import { isExpired, mintToken, parseIdentifier } from './tokens.js';

export const DAY_MS = 86_400_000;
/** default lifetime of an issued user identity */
export const DEFAULT_IDENTITY_TTL_MS = 30 * DAY_MS;

export function issueIdentity(
  masterKey: Buffer,
  name: string,
  admin: boolean,
  ttlMs: number,
  now: number,
): UserIdentity {
  const exp = now + ttlMs;
  const token = mintToken(masterKey, { kind: 'user', name, admin, exp, iat: now });
  return { cinderIdentity: 1, user: name, admin, expires: exp, token };
}

export function writeIdentity(file: string, id: UserIdentity): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(id, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Reads and checks an identity file (mode, form, expiry); the RM checks the signature when it is used. */
export function readIdentity(file: string, now = Date.now()): UserIdentity {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new CinderError('NO_IDENTITY', `identity file ${file} does not exist`, IDENTITY_HINT);
  }
  assertPrivate(file, st, 'INSECURE_IDENTITY', 'identity file');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CinderError('BAD_IDENTITY', `identity file ${file} is not JSON: ${(e as Error).message}`);
  }
  const r = raw as Partial<UserIdentity>;
  const tok = Token.safeParse(r.token);
  const id = tok.success ? parseIdentifier(tok.data.identifier) : undefined;
  if (r.cinderIdentity !== 1 || !tok.success || id?.kind !== 'user')
    throw new CinderError('BAD_IDENTITY', `${file} is not a Cinder identity file`, IDENTITY_HINT);
  if (isExpired(id, now))
    throw new CinderError(
      'IDENTITY_EXPIRED',
      `identity ${file} (user ${id.name}) expired at ${new Date(id.exp).toISOString()}`,
      'ask an admin for a new one: cinder user add NAME --out FILE',
    );
  return { cinderIdentity: 1, user: id.name, admin: id.admin, expires: id.exp, token: tok.data };
}

export const IDENTITY_HINT =
  'pass --identity FILE or set CINDER_IDENTITY (an admin issues one with `cinder user add NAME --out FILE`; a dev cluster keeps its admin identity in DIR/admin.identity)';
