/**
 * The metrics token: a bearer credential that lets a Prometheus scraper read `/metrics` of the RM and
 * of every NodeManager, and nothing else. It is an HMAC of a fixed label under the cluster secret, so
 * every daemon derives it without storing it, an operator prints it with `cinder metrics-token` on a
 * host that has the secret file, and rotating the cluster secret revokes it
 * (docs/decisions/0022-rm-web-ui-and-proxy.md).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function metricsToken(clusterSecret: string): string {
  return `metrics.${createHmac('sha256', clusterSecret).update('cinder-metrics/v1').digest('base64url')}`;
}

/** Whether an Authorization header carries the metrics token (constant-time compare). */
export function isMetricsBearer(clusterSecret: string, authorization: string | undefined): boolean {
  if (!authorization?.startsWith('Bearer ')) return false;
  const got = Buffer.from(authorization.slice(7).trim());
  const want = Buffer.from(metricsToken(clusterSecret));
  return got.length === want.length && timingSafeEqual(got, want);
}
