#!/usr/bin/env node
// `cinder submit` runs the CLI, driver and engine as one bundle from a V8 code cache when the build made
// it (docs/decisions/0035-cli-bundle.md; CINDER_CLI_BUNDLE=0 uses the per-file modules); other commands
// load only the modules they need (src/cli/main.ts, src/cli/commands.ts). `submit --driver-memory` starts
// itself again with that heap before loading any of it (src/cli/submit-flags.ts).
import fs from 'node:fs';
import { createRequire } from 'node:module';

const bundle = new URL('../build/src/cli/cli.entry.cjs', import.meta.url);
const submit = process.argv[2] === 'submit';
const args = process.argv.slice(3);
const heapMb =
  submit &&
  !process.env.CINDER_DRIVER_HEAP_MB &&
  args.some((a) => a === '--driver-memory' || a.startsWith('--driver-memory='))
    ? (await import('../build/src/cli/submit-flags.js')).earlyDriverHeapMb(args)
    : undefined;
if (heapMb !== undefined) {
  const { rerunWithHeap } = await import('../build/src/deploy/client/driver-heap.js');
  process.exitCode = await rerunWithHeap(heapMb);
} else if (submit && process.env.CINDER_CLI_BUNDLE !== '0' && fs.existsSync(bundle)) {
  createRequire(import.meta.url)(bundle.pathname);
} else {
  const [{ main }, { allCommands }] = await Promise.all([
    import('../build/src/cli/main.js'),
    import('../build/src/cli/commands.js'),
  ]);
  await main(allCommands);
}
