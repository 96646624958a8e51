/**
 * Mutual shared-secret authentication for every RPC channel (Spark's spark.authenticate idea, on by default).
 * Neither side ever sends the secret: each proves knowledge of it with HMAC-SHA256 over both nonces.
 *   server -> client: AuthChallenge { serverNonce }
 *   client -> server: AuthResponse  { principal, clientNonce, proof = H(secret, "c" | serverNonce | clientNonce) }
 *   server -> client: AuthOk        { proof = H(secret, "s" | serverNonce | clientNonce) }   or AuthFailed + close
 * The principal names which secret to check: "cluster" for daemons, an app id for that app's per-app secret.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export function newNonce(): Buffer {
  return randomBytes(16);
}

export function proof(secret: string, side: 'c' | 's', serverNonce: Uint8Array, clientNonce: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(side).update(serverNonce).update(clientNonce).digest();
}

export function proofMatches(expected: Buffer, got: Uint8Array): boolean {
  return got.length === expected.length && timingSafeEqual(expected, Buffer.from(got));
}

/** A fresh random secret (per app or per cluster), hex encoded. */
export function newSecret(): string {
  return randomBytes(32).toString('hex');
}
