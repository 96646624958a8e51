/**
 * Container sizes asked of the ResourceManager, from the application's configuration (Spark on YARN's
 * rules): a container holds its heap plus an overhead for off-heap memory, by default
 * max(384 MiB, 10% of the heap), or what the matching *.memoryOverhead setting says. Both deploy modes
 * check their containers against the cluster's maximum allocation before anything starts (Spark's
 * Client.verifyClusterResources), so an impossible request fails at once with what to change.
 *
 * Owns: sizing rules and the pre-flight check. Must not: talk to the cluster.
 */
import { type Conf, intConf, parseMb } from '../common/conf.js';
import { CinderError } from '../common/errors.js';
import type { Resource } from '../protocol/cluster.js';

/** Spark's default overhead: max(384 MiB, 10% of the heap). */
export function overheadFor(heapMB: number): number {
  return Math.max(384, Math.ceil(heapMB * 0.1));
}

export interface ContainerSize {
  /** what the container runs, for messages */
  what: string;
  heapMB: number;
  overheadMB: number;
  vcores: number;
  /** the settings a user changes to fix a too-large request */
  memoryKey: string;
  coresKey: string;
}

function sized(
  conf: Conf,
  what: string,
  memoryKey: string,
  defMemory: string,
  coresKey: string,
  cores: number,
): ContainerSize {
  const heapMB = parseMb(conf[memoryKey] ?? defMemory, memoryKey);
  const ov = conf[`${memoryKey}Overhead`];
  return {
    what,
    heapMB,
    overheadMB: ov ? parseMb(ov, `${memoryKey}Overhead`) : overheadFor(heapMB),
    vcores: cores,
    memoryKey,
    coresKey,
  };
}

/** An executor container: cinder.executor.memory (+ cinder.executor.memoryOverhead), cinder.executor.cores. */
export function executorSize(conf: Conf): ContainerSize {
  return sized(
    conf,
    'executor',
    'cinder.executor.memory',
    '1g',
    'cinder.executor.cores',
    intConf(conf, 'cinder.executor.cores'),
  );
}

/** The AM container of cluster mode, which runs the driver: cinder.driver.memory / cores. */
export function clusterAmSize(conf: Conf): ContainerSize {
  return sized(
    conf,
    'AM/driver',
    'cinder.driver.memory',
    '1g',
    'cinder.driver.cores',
    Number(conf['cinder.driver.cores'] ?? '1'),
  );
}

/** The AM container of client mode, which only asks for executors: cinder.yarn.am.memory / cores. */
export function clientAmSize(conf: Conf): ContainerSize {
  return sized(
    conf,
    'AM',
    'cinder.yarn.am.memory',
    '512m',
    'cinder.yarn.am.cores',
    Number(conf['cinder.yarn.am.cores'] ?? '1'),
  );
}

export function totalMB(c: ContainerSize): number {
  return c.heapMB + c.overheadMB;
}

/** Throws RESOURCE_TOO_LARGE for the first container the cluster could never allocate. */
export function checkFits(containers: ContainerSize[], max: Resource): void {
  for (const c of containers) {
    if (totalMB(c) > max.memoryMB)
      throw new CinderError(
        'RESOURCE_TOO_LARGE',
        `the ${c.what} container needs ${totalMB(c)} MB (${c.memoryKey}=${c.heapMB} MB + overhead ${c.overheadMB} MB), more than the cluster's maximum allocation of ${max.memoryMB} MB (yarn.scheduler.maximum-allocation-mb)`,
        `lower ${c.memoryKey} (or ${c.memoryKey}Overhead), or raise the cluster's maximum allocation`,
      );
    if (c.vcores > max.vcores)
      throw new CinderError(
        'RESOURCE_TOO_LARGE',
        `the ${c.what} container needs ${c.vcores} vcores (${c.coresKey}), more than the cluster's maximum allocation of ${max.vcores} (yarn.scheduler.maximum-allocation-vcores)`,
        `lower ${c.coresKey}`,
      );
  }
}
