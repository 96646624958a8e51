/**
 * Process main run as a container by the isolation test: tries, as a hostile task would, to read the
 * NM's dir and cluster secret, another app's container and log dirs, and every process's environ, and
 * prints what it could read as one JSON line. Spec in argv[2]: { nmDir, victimApp, victimContainer }.
 */
import fs from 'node:fs';
import path from 'node:path';

const spec = JSON.parse(process.argv[2] ?? '{}') as {
  nmDir: string;
  victimApp: string;
  victimContainer: string;
  secretFile: string;
  masterKey: string;
};

function attempt(f: () => unknown): string {
  try {
    const v = f();
    return `READ ${JSON.stringify(v).slice(0, 80)}`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

const work = path.join(spec.nmDir, 'work', spec.victimApp);
const logs = path.join(spec.nmDir, 'logs', spec.victimApp);
const reads: Record<string, string> = {
  nmDir: attempt(() => fs.readdirSync(spec.nmDir)),
  // the daemons' secret file (the NMs no longer keep a copy in their dir) and the RM's master key
  clusterSecret: attempt(() => fs.readFileSync(spec.secretFile, 'utf8')),
  masterKey: attempt(() => fs.readFileSync(spec.masterKey, 'utf8')),
  recoveryDir: attempt(() => fs.readdirSync(path.join(spec.nmDir, 'recovery'))),
  cacheDir: attempt(() => fs.readdirSync(path.join(spec.nmDir, 'cache'))),
  victimAppWork: attempt(() => fs.readdirSync(work)),
  victimContainerDir: attempt(() => fs.readdirSync(path.join(work, spec.victimContainer))),
  victimFile: attempt(() => fs.readFileSync(path.join(work, spec.victimContainer, 'mine.txt'), 'utf8')),
  victimLogs: attempt(() => fs.readFileSync(path.join(logs, spec.victimContainer, 'stdout'), 'utf8')),
  victimLaunchScript: attempt(() =>
    fs.readFileSync(path.join(work, `${spec.victimContainer}.run`, `${spec.victimContainer}.launch.sh`), 'utf8'),
  ),
  ownFile: attempt(() => fs.readFileSync('own.txt', 'utf8')),
  ownLogDir: attempt(() => fs.readdirSync(process.env.CINDER_LOG_DIR ?? '')),
};
// every process whose environ names the victim app and that this task could read
const environs: number[] = [];
let denied = 0;
for (const e of fs.readdirSync('/proc')) {
  if (!/^\d+$/.test(e)) continue;
  try {
    if (fs.readFileSync(`/proc/${e}/environ`, 'utf8').includes(`CINDER_APP_ID=${spec.victimApp}`))
      environs.push(Number(e));
  } catch {
    denied++;
  }
}
process.stdout.write(
  `${JSON.stringify({ uid: process.getuid?.(), gid: process.getgid?.(), groups: process.getgroups?.(), home: process.env.HOME, reads, environs, denied })}\n`,
);
