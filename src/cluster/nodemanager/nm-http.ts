/**
 * The NodeManager's small HTTPS listener: GET /metrics (Prometheus text, prom-client) and nothing else.
 * HTTPS with a certificate signed by the cluster CA (webCertFile/webKeyFile; `cinder cluster up` makes
 * one per node; plain HTTP only with webTls=false, decision 0027).
 * Loopback by default (httpHost), any free port by default (httpPort 0; -1 = off); it needs the metrics
 * token (`cinder metrics-token`: an HMAC under the cluster secret, which every NM has), since an NM
 * cannot check user tokens. Metrics: containers launched and failed, running containers and their
 * memory/vcores, resource-cache entries, downloads and hits, and the process's default metrics
 * (docs/metrics.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ContainerStatus } from '../../protocol/cluster.js';
import { isMetricsBearer } from '../security/metrics-token.js';
import type { fastifyTlsOptions } from '../security/web-tls.js';

export interface NmView {
  /** live containers' resources */
  running(): { memoryMB: number; vcores: number }[];
  cacheDir: string;
  cacheCounts(): { downloads: number; hits: number };
}

/** Bytes of the regular files under dir (no symlinks followed); 0 when it does not exist. */
function treeBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(p);
    else if (e.isFile()) {
      try {
        total += fs.statSync(p).size;
      } catch {
        // removed while walking
      }
    }
  }
  return total;
}

export class NmMetrics {
  readonly registry = new Registry();
  private readonly launches: Counter;
  private readonly failures: Counter;
  private readonly completed: Counter;

  constructor(view: NmView) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'cinder_nm_' });
    this.launches = new Counter({
      name: 'cinder_nm_container_launches_total',
      help: 'containers this NodeManager accepted to start',
      registers: [r],
    });
    this.completed = new Counter({
      name: 'cinder_nm_containers_completed_total',
      help: 'containers that ended and were reported to the RM',
      registers: [r],
    });
    this.failures = new Counter({
      name: 'cinder_nm_container_failures_total',
      help: 'containers that ended with a non-zero exit status (killed ones included)',
      registers: [r],
    });
    new Gauge({
      name: 'cinder_nm_containers_running',
      help: 'containers running on this node',
      registers: [r],
      collect() {
        this.set(view.running().length);
      },
    });
    new Gauge({
      name: 'cinder_nm_container_memory_mb',
      help: 'memory of the running containers, MB',
      registers: [r],
      collect() {
        this.set(view.running().reduce((s, c) => s + c.memoryMB, 0));
      },
    });
    new Gauge({
      name: 'cinder_nm_container_vcores',
      help: 'vcores of the running containers',
      registers: [r],
      collect() {
        this.set(view.running().reduce((s, c) => s + c.vcores, 0));
      },
    });
    new Gauge({
      name: 'cinder_nm_cache_entries',
      help: 'localized resources (files and unpacked archives) in the resource cache',
      registers: [r],
      collect() {
        let n = 0;
        try {
          n = fs.readdirSync(view.cacheDir).filter((f) => !f.endsWith('.tmp')).length;
        } catch {
          // no cache dir yet
        }
        this.set(n);
      },
    });
    new Gauge({
      name: 'cinder_nm_cache_bytes',
      help: 'bytes the resource cache takes on disk (files and unpacked archives)',
      registers: [r],
      collect() {
        this.set(treeBytes(view.cacheDir));
      },
    });
    new Gauge({
      name: 'cinder_nm_cache_downloads',
      help: 'resources fetched from the RM staging store (cache misses) since start',
      registers: [r],
      collect() {
        this.set(view.cacheCounts().downloads);
      },
    });
    new Gauge({
      name: 'cinder_nm_cache_hits',
      help: 'resources served from the cache since start',
      registers: [r],
      collect() {
        this.set(view.cacheCounts().hits);
      },
    });
  }

  launched(): void {
    this.launches.inc();
  }

  /** statuses the RM acknowledged: count the completed ones once */
  reported(sts: ContainerStatus[]): void {
    for (const s of sts)
      if (s.state === 'COMPLETE') {
        this.completed.inc();
        if ((s.exitStatus ?? 0) !== 0) this.failures.inc();
      }
  }
}

/** Starts the listener; returns it and the address it is reachable at (host:port). */
export async function startNmHttp(
  metrics: NmMetrics,
  host: string,
  port: number,
  clusterSecret: string,
  tls: ReturnType<typeof fastifyTlsOptions> = {},
): Promise<{ app: FastifyInstance; address: string }> {
  const app = Fastify({ logger: false, ...tls }) as unknown as FastifyInstance;
  app.addHook('onRequest', async (req, reply) => {
    if (!isMetricsBearer(clusterSecret, req.headers.authorization)) {
      reply.code(401).header('WWW-Authenticate', 'Bearer').send({
        error: 'missing or bad metrics token (`cinder metrics-token` prints it on a host with the cluster secret)',
      });
      return reply;
    }
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return { app, address: `${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
