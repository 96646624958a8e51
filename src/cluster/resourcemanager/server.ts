/**
 * Starts a ResourceManager: the authenticated RPC server (principal "cluster"), the REST API and the
 * liveness timer, and routes each ToRm message to rm.ts or client-service.ts. Owns wiring only.
 */
import { logger } from '../../common/log.js';
import { parseToRm, type ToNm, type ToRm } from '../../protocol/cluster.js';
import { type RpcServer, serve } from '../../rpc/index.js';
import type { RmConfig } from '../common/config.js';
import { allocate, finishAm, registerAm } from './am-service.js';
import * as cs from './client-service.js';
import { nodeHeartbeat, registerNode, unregisterNode } from './node-service.js';
import { startRest } from './rest.js';
import { ResourceManager } from './rm.js';

const log = logger('rm-server');

export interface RunningRm {
  rm: ResourceManager;
  host: string;
  port: number;
  restPort: number;
  close(): Promise<void>;
}

export async function startResourceManager(conf: RmConfig, secret: string): Promise<RunningRm> {
  const rm = new ResourceManager(conf);
  const srv: RpcServer<ToRm, ToNm> = await serve<ToRm, ToNm>(
    {
      parse: parseToRm,
      secretFor: (p) => (p === 'cluster' ? secret : undefined),
      host: conf.host,
      port: conf.port,
      name: 'resourcemanager',
    },
    (conn) => (msg, reply) => {
      const run = async (): Promise<unknown> => {
        switch (msg.type) {
          case 'RegisterNode':
            return registerNode(rm, msg, conn);
          case 'NodeHeartbeat':
            return nodeHeartbeat(rm, msg);
          case 'UnregisterNode':
            return unregisterNode(rm, msg);
          case 'UploadLogs':
            return cs.storeLogs(rm, msg);
          case 'FetchResource':
            return cs.fetchResource(rm, msg.appId, msg.sha256);
          case 'RegisterApplicationMaster':
            return registerAm(rm, msg);
          case 'Allocate':
            return allocate(rm, msg);
          case 'FinishApplicationMaster':
            return finishAm(rm, msg);
          case 'GetNewApplication':
            return cs.newApplication(rm, msg);
          case 'UploadFile':
            return cs.uploadFile(rm, msg);
          case 'SubmitApplication':
            return cs.submit(rm, msg);
          case 'GetApplicationReport':
            return cs.getReport(rm, msg.appId, msg.user);
          case 'GetApplications':
            return cs.listApps(rm, msg);
          case 'GetApplicationAttempts':
            return cs.attempts(rm, msg.appId, msg.user);
          case 'KillApplication':
            return cs.kill(rm, msg.appId, msg.user, msg.reason);
          case 'GetLogs':
            return cs.getLogs(rm, msg.appId, msg.user, msg.containerId);
          case 'GetClusterNodes':
            return cs.nodeReports(rm, msg.states);
          case 'GetClusterInfo':
            return cs.clusterInfo(rm);
        }
      };
      run().then(
        (r) => reply?.reply(r ?? {}),
        (e: Error) => {
          log.debug({ type: msg.type, err: e.message }, 'request refused');
          reply?.fail(e);
        },
      );
    },
  );
  const rest = conf.restPort >= 0 ? await startRest(rm, secret, conf.restHost, conf.restPort) : undefined;
  rm.start();
  log.info({ host: srv.host, port: srv.port, restPort: rest?.port }, 'ResourceManager started');
  return {
    rm,
    host: srv.host,
    port: srv.port,
    restPort: rest?.port ?? -1,
    close: async () => {
      rm.stop();
      await rest?.app.close();
      await srv.close();
    },
  };
}
