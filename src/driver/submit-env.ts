/**
 * What `cinder submit` / the AM hand the driver process (CINDER_SUBMIT_CONF): the master, app name and
 * conf, so the same app file runs unchanged in local, client and cluster mode.
 */
import type { Conf } from '../common/conf.js';

export interface SubmitEnv {
  master: string;
  files?: string[];
  archives?: string[];
  appName?: string;
  conf?: Conf;
  appId?: string;
  deployMode?: 'client' | 'cluster';
}

export function submitEnv(): SubmitEnv | undefined {
  const raw = process.env.CINDER_SUBMIT_CONF;
  if (!raw) return undefined;
  return JSON.parse(raw) as SubmitEnv;
}
