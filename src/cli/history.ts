/** `cinder history-server`: serves finished and running applications from their event logs. */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultEventLogDir } from '../ui/event-log.js';

interface HistoryFlags {
  dir?: string[];
  host: string;
  port: string;
  master?: string;
  identity?: string;
  cacheDir?: string;
  refresh: string;
  tlsCert?: string;
  tlsKey?: string;
  caDir?: string;
  plainHttp?: boolean;
}

export function register(program: Command): void {
  program
    .command('history-server')
    .description(
      "serve the UI and REST API of finished and running apps from their event logs (Spark's history server)",
    )
    .option(
      '--dir <dir>',
      "an event log directory (repeatable): ~/.cinder/event-logs, a ResourceManager's <dir>/app-logs, a NodeManager's <dir>/logs",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      '--master <url>',
      "also read the event logs of a cluster's apps through its ResourceManager (cinder://HOST:PORT)",
    )
    .option(
      '--identity <file>',
      'user identity for --master (default: $CINDER_IDENTITY or the dev cluster admin identity)',
    )
    .option(
      '--cache-dir <dir>',
      'where logs read through --master are kept',
      path.join(os.homedir(), '.cinder', 'history-cache'),
    )
    .option('--refresh <ms>', 'how often running apps are re-read through --master', '5000')
    .option('--host <host>', 'bind address', '127.0.0.1')
    .option('--port <port>', 'HTTP(S) port (0 = any free port)', '18080')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option(
      '--ca-dir <dir>',
      'serve HTTPS with a certificate issued by the cluster CA in this dir (ca.pem, ca.key); default with --master of the dev cluster: its CA; with another --master: a self-signed certificate in <cache-dir>/tls, its fingerprint printed',
    )
    .option('--plain-http', 'serve plain HTTP even with --master (trusted single host only)')
    .action(async (o: HistoryFlags) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port ${o.port} is not a port number (0-65535)`);
      const abs = (d: string) => path.resolve(d.replace(/^~(?=$|\/)/, os.homedir()));
      const dirs = (o.dir ?? (o.master ? [] : [defaultEventLogDir()])).map(abs);
      // the certificate first: bad TLS flags are refused before anything connects
      const [{ historyTls }, { defaultDevDir }] = await Promise.all([
        import('../history/tls.js'),
        import('../cluster/dev-dir.js'),
      ]);
      const tls = historyTls({ ...o, tlsDir: path.join(abs(o.cacheDir!), 'tls'), devDir: defaultDevDir() });
      let mirror: { stop(): void } | undefined;
      if (o.master) {
        const [
          { ClusterClient, rmRetryPolicy },
          { resolveIdentity },
          { defaultDevDir },
          { defaultsConf },
          { RmEventLogMirror },
        ] = await Promise.all([
          import('../cluster/client.js'),
          import('../cluster/security/client-identity.js'),
          import('../cluster/devcluster.js'),
          import('../deploy/client/submit-options.js'),
          import('../history/rm-mirror.js'),
        ]);
        const identity = resolveIdentity(o.master, o.identity, defaultDevDir());
        const client = await ClusterClient.connect(o.master, { identity, retry: rmRetryPolicy(defaultsConf()) });
        const cache = path.join(abs(o.cacheDir!), o.master.replace(/[^A-Za-z0-9.-]+/g, '_'));
        const m = new RmEventLogMirror(client, cache, Number(o.refresh));
        await m.refresh();
        m.start();
        mirror = m;
        dirs.push(cache);
      }
      const { startHistoryServer } = await import('../history/server.js');
      const { app, url } = await startHistoryServer({ dirs, host: o.host, port, tls });
      process.stdout.write(
        `history server at ${url} (event logs from ${dirs.join(', ')}; ${tls ? `HTTPS, ${tls.note}` : 'plain HTTP'})\n`,
      );
      for (const s of ['SIGINT', 'SIGTERM'] as const)
        process.once(s, () => {
          mirror?.stop();
          void app.close().finally(() => process.exit(0));
        });
    });
}
