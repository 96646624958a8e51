/**
 * A long-lived client-mode service (the seed's always-on product): it keeps one CinderContext and
 * runs a job on every HTTP request and on every tick, until it is redeployed or killed.
 *
 *   npx cinder submit --master cinder://HOST:PORT examples/service.ts [--port 8080] [--tick-ms 1000] [--max-jobs N]
 *
 * GET /count?words=a+b+a  -> word counts computed by a job;  GET /stats -> jobs run, memory, fds.
 * Every 100 jobs it prints one line of resource figures (RSS, heap, open fds, child processes) so a
 * leak shows up as a trend. SIGTERM or SIGINT stops the context cleanly (executors released, final
 * status recorded on the cluster); --max-jobs ends it by itself after N jobs (used by tests).
 */
import fs from 'node:fs';
import http from 'node:http';
import { CinderContext } from 'cinder';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const port = flag('port', 0);
const tickMs = flag('tick-ms', 1000);
const maxJobs = flag('max-jobs', Number.POSITIVE_INFINITY);

const sc = await CinderContext.getOrCreate({ appName: 'service' });
let jobs = 0;

function resources() {
  const mu = process.memoryUsage();
  const children = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(process.pid);
      } catch {
        return false;
      }
    }).length;
  return {
    jobs,
    rssMB: Math.round(mu.rss / 2 ** 20),
    heapMB: Math.round(mu.heapUsed / 2 ** 20),
    fds: fs.readdirSync('/proc/self/fd').length,
    children,
  };
}

async function countWords(words: string[]): Promise<Map<string, number>> {
  const counts = await sc
    .parallelize(words, 2)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .collectAsMap();
  if (++jobs % 100 === 0) console.log(`stats ${JSON.stringify(resources())}`);
  if (jobs >= maxJobs) void shutdown();
  return counts;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/stats') return void res.end(JSON.stringify(resources()));
  if (url.pathname !== '/count') return void res.writeHead(404).end('try /count?words=a+b or /stats\n');
  countWords((url.searchParams.get('words') ?? '').split(/\s+/).filter(Boolean)).then(
    (m) => res.end(JSON.stringify(Object.fromEntries(m))),
    (e: Error) => res.writeHead(500).end(`${e.message}\n`),
  );
});
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(
    `service listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : port} (app ${sc.applicationId})`,
  );
});

let ticking = true;
async function tick(): Promise<void> {
  while (ticking) {
    await countWords(['tick', 'tock', 'tick', String(jobs % 7)]);
    if (tickMs > 0) await new Promise((r) => setTimeout(r, tickMs));
  }
}

let stopping: Promise<void> | undefined;
function shutdown(): Promise<void> {
  stopping ??= (async () => {
    ticking = false;
    server.close();
    console.log(`stopping after ${jobs} jobs: ${JSON.stringify(resources())}`);
    await sc.stop();
  })();
  return stopping;
}
process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)));
process.once('SIGINT', () => void shutdown().then(() => process.exit(0)));

await tick();
await shutdown();
