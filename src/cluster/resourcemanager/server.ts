/**
 * Starts a ResourceManager: the authenticated RPC server (NMs as "cluster", AMs with AM tokens, users
 * with user tokens: callers.ts), the REST API and the liveness timer, and routes each ToRm message to
 * rm.ts or client-service.ts after checking the connection's role. Owns wiring only.
 */
import { logger } from '../../common/log.js';
import { parseToRm, type ToNm, type ToRm } from '../../protocol/cluster.js';
import { type RpcServer, serve } from '../../rpc/index.js';
import type { RmConfig } from '../common/config.js';
import { isMetricsBearer } from '../security/metrics-token.js';
import { fastifyTlsOptions, webScheme } from '../security/web-tls.js';
import { type AmSession, allocate, finishAm, registerAm } from './am-service.js';
import { callerOf, checkRole, principalOf } from './callers.js';
import * as cs from './client-service.js';
import { type NodeSession, nodeHeartbeat, registerNode, unregisterNode } from './node-service.js';
import { startRest } from './rest.js';
import { ResourceManager } from './rm.js';
import { createRmMetrics } from './web/metrics.js';

const log = logger('rm-server');

export interface RunningRm {
  rm: ResourceManager;
  host: string;
  port: number;
  restPort: number;
  /** https unless webTls=false */
  restScheme: 'https' | 'http';
  /** scheme://host:port users reach the RM's web UI, REST and proxy at ('' without REST) */
  webAddress: string;
  close(): Promise<void>;
}

export async function startResourceManager(conf: RmConfig, secret: string): Promise<RunningRm> {
  // a REST server that cannot start (no certificate for HTTPS) is refused before anything listens
  if (conf.restPort >= 0) fastifyTlsOptions(conf);
  const rm = new ResourceManager(conf, secret);
  const metrics = createRmMetrics(rm);
  const srv: RpcServer<ToRm, ToNm> = await serve<ToRm, ToNm>(
    {
      parse: parseToRm,
      secretFor: rm.tokens.secretFor,
      host: conf.host,
      port: conf.port,
      name: 'resourcemanager',
    },
    (conn) => {
      // the role and identity of this connection, fixed by the credential it authenticated with
      const caller = callerOf(conn.principal);
      const who = principalOf(caller, conf.admins);
      const node: NodeSession = { nodeId: '' };
      const am: AmSession = caller?.kind === 'am' ? caller : { attemptId: '', user: '' };
      return (msg, reply) => {
        const run = async (): Promise<unknown> => {
          checkRole(caller, msg);
          switch (msg.type) {
            case 'RegisterNode':
              return registerNode(rm, msg, conn, node);
            case 'NodeHeartbeat':
              return nodeHeartbeat(rm, msg, node);
            case 'UnregisterNode':
              return unregisterNode(rm, msg, node);
            case 'UploadLogs':
              return cs.storeLogs(rm, msg, node.nodeId);
            case 'FetchResource':
              return cs.fetchResource(rm, msg.appId, msg.sha256);
            case 'RegisterApplicationMaster':
              return registerAm(rm, msg, am);
            case 'Allocate':
              return allocate(rm, msg, am);
            case 'FinishApplicationMaster':
              return finishAm(rm, msg, am);
            case 'GetNewApplication':
              return cs.newApplication(rm, who);
            case 'UploadFile':
              return cs.uploadFile(rm, msg, who);
            case 'SubmitApplication':
              return cs.submit(rm, msg, who);
            case 'GetApplicationReport':
              return cs.getReport(rm, msg.appId, who);
            case 'GetApplications':
              return cs.listApps(rm, msg, who);
            case 'GetApplicationAttempts':
              return cs.attempts(rm, msg.appId, who);
            case 'KillApplication':
              return cs.kill(rm, msg.appId, who, msg.reason);
            case 'GetLogs':
              return cs.getLogs(rm, msg.appId, who, msg.containerId);
            case 'GetClusterNodes':
              return cs.nodeReports(rm, msg.states);
            case 'GetClusterInfo':
              return cs.clusterInfo(rm);
            case 'IssueIdentity':
              return cs.issueIdentity(rm, msg, who);
            case 'WhoAmI':
              return who;
          }
        };
        run().then(
          (r) => {
            metrics.rpc(msg.type, false);
            reply?.reply(r ?? {});
          },
          (e: Error) => {
            metrics.rpc(msg.type, true);
            log.debug({ type: msg.type, err: e.message }, 'request refused');
            reply?.fail(e);
          },
        );
      };
    },
  );
  const rest =
    conf.restPort >= 0
      ? await startRest(rm, conf.restHost, conf.restPort, {
          metrics,
          isMetricsToken: (h) => isMetricsBearer(secret, h),
        }).catch(async (e) => {
          await srv.close(); // e.g. the REST port is taken: nothing is left listening
          throw e;
        })
      : undefined;
  rm.start();
  log.info({ host: srv.host, port: srv.port, restPort: rest?.port }, 'ResourceManager started');
  return {
    rm,
    host: srv.host,
    port: srv.port,
    restPort: rest?.port ?? -1,
    restScheme: webScheme(conf),
    webAddress: rm.webAddress,
    close: async () => {
      rm.stop();
      await rest?.app.close();
      await srv.close();
    },
  };
}
