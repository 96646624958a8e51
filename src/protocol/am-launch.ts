/**
 * The submitter -> Application Master contract (Spark's __spark_conf__): what the AM needs to know
 * that the cluster does not, as one validated JSON file. The submitting client stages it with the
 * application and names it a local resource of the AM container, so the NodeManager links it into the
 * container's dir like any other resource; the AM reads it at start (src/deploy/am/application-master.ts)
 * and refuses to start on a missing, unreadable or different-version file with a message that says so.
 * No secrets here: the app secret and the AM token come in the container's 0600 credentials file.
 * What the NodeManager itself tells the container (CINDER_APP_ID, CINDER_ATTEMPT_ID, CINDER_NM_HOST,
 * CINDER_RM, CINDER_CREDENTIALS_FILE) stays in its environment, as YARN's container env does.
 */
import { z } from '../common/zod.js';
import { LocalResource } from './cluster.js';

export const AM_LAUNCH_VERSION = 1;
/** the link name of the contract in the AM container's dir */
export const AM_LAUNCH_FILE = '__cinder_am__.json';

const common = {
  version: z.literal(AM_LAUNCH_VERSION),
  appName: z.string(),
  /** the application's configuration (cinder.* keys), as the driver sees it */
  conf: z.record(z.string(), z.string()),
  /** --files / --archives of the app: every executor container gets them too */
  executorResources: z.record(z.string(), LocalResource),
  maxAttempts: z.number().int().positive(),
};

export const AmLaunch = z.discriminatedUnion('mode', [
  /** cluster deploy mode: the driver runs in the AM, which imports the user's main */
  z.object({
    ...common,
    mode: z.literal('cluster'),
    master: z.string(),
    /** path of the app's entry module inside the container's dir */
    appMain: z.string().min(1),
    appArgs: z.array(z.string()),
  }),
  /** client deploy mode: the driver runs in the submitting client, which the AM dials */
  z.object({
    ...common,
    mode: z.literal('client'),
    /** the driver's executor endpoint (host:port) */
    driverUrl: z.string().min(1),
    /** the driver's AM endpoint (host:port) */
    driverAmUrl: z.string().min(1),
    /** the driver's UI, registered with the RM as the tracking URL */
    driverUiUrl: z.string().optional(),
  }),
]);
export type AmLaunch = z.infer<typeof AmLaunch>;

/** The contract as file bytes (what the submitter stages). */
export function encodeAmLaunch(l: AmLaunch): Uint8Array {
  return Buffer.from(JSON.stringify(AmLaunch.parse(l)));
}

/** Parses the contract file's text; throws a message naming the file and the first problem. */
export function parseAmLaunch(text: string, file: string): AmLaunch {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not JSON (${(e as Error).message}): the submitting client wrote a broken AM contract`);
  }
  const version = (v as { version?: unknown } | null)?.version;
  if (version !== AM_LAUNCH_VERSION)
    throw new Error(
      `${file} has AM contract version ${String(version)}, this AM reads ${AM_LAUNCH_VERSION}: submit with the same Cinder release as the cluster's`,
    );
  const r = AmLaunch.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${file}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
  }
  return r.data;
}
