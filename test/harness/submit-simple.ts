/**
 * Process main for tests that must submit from another host (network namespace): reads a JSON spec
 * from argv[2] ({ master, ...SimpleSubmit }), submits a simple-am app and prints {"appId"} or
 * {"error"}. The user is CINDER_IDENTITY's, as for any client.
 */
import { ClusterClient } from '../../src/cluster/client.js';
import { type SimpleSubmit, submitSimpleApp } from './mini-cluster.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as SimpleSubmit & { master: string };
try {
  const cl = await ClusterClient.connect(spec.master);
  try {
    process.stdout.write(`${JSON.stringify({ appId: await submitSimpleApp(cl, spec) })}\n`);
  } finally {
    cl.close();
  }
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
  process.exitCode = 1;
}
