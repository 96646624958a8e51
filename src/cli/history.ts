/** `cinder history-server`: serves finished and running applications from their event logs. */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultEventLogDir } from '../ui/event-log.js';

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
    .option('--host <host>', 'bind address', '127.0.0.1')
    .option('--port <port>', 'HTTP port (0 = any free port)', '18080')
    .action(async (o: { dir?: string[]; host: string; port: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port ${o.port} is not a port number (0-65535)`);
      const dirs = (o.dir ?? [defaultEventLogDir()]).map((d) => path.resolve(d.replace(/^~(?=$|\/)/, os.homedir())));
      const { startHistoryServer } = await import('../history/server.js');
      const { app, url } = await startHistoryServer({ dirs, host: o.host, port });
      process.stdout.write(`history server at ${url} (event logs from ${dirs.join(', ')})\n`);
      for (const s of ['SIGINT', 'SIGTERM'] as const)
        process.once(s, () => {
          void app.close().finally(() => process.exit(0));
        });
    });
}
