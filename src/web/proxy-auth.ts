/**
 * How an application's UI knows a request came through the RM's web proxy (YARN's AmIpFilter, but
 * with a credential instead of an address check): the proxy, which has already checked the user's
 * token and the app's view ACL, adds a header carrying an HMAC of a fixed label under the app's
 * secret. Only the RM and the app's own processes hold that secret, so a request without the header
 * (a user going round the proxy, another app's task) is refused by the app's UI. The proxy also says
 * under which path prefix it serves the app, so the UI's links stay inside the proxy.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** carries proxyAuthValue(appSecret) */
export const PROXY_AUTH_HEADER = 'x-cinder-proxy-auth';
/** the path prefix the proxy serves the app under, e.g. /proxy/application_1_0001 */
export const PROXY_BASE_HEADER = 'x-cinder-proxy-base';
/** the user the proxy authenticated (informational: the ACL was checked by the RM) */
export const PROXY_USER_HEADER = 'x-cinder-proxy-user';

export function proxyAuthValue(appSecret: string): string {
  return createHmac('sha256', appSecret).update('cinder-ui-proxy/v1').digest('base64url');
}

/** Whether a header value is the proxy credential for this app secret (constant-time compare). */
export function isProxyAuth(appSecret: string, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const want = Buffer.from(proxyAuthValue(appSecret));
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The proxy base a page should prefix its links with: '' unless it is a safe /proxy/<id> path. */
export function proxyBase(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^\/proxy\/[A-Za-z0-9_-]{1,100}$/.test(header) ? header : '';
}
