/**
 * The smallest real job (issue 18): parallelize([1,2,3,4], 2).reduce(+) on the submit's master, run by
 * the startup case (bench/suite.ts) as `cinder submit --master local[2] bench/apps/tiny-app.ts`, from its
 * TypeScript source so the app's transpile is part of what is measured. Prints `sum=10 expected=10`.
 */
import { CinderContext } from 'cinder';

const sc = await CinderContext.getOrCreate({ appName: 'bench-tiny' });
const sum = await sc.parallelize([1, 2, 3, 4], 2).reduce((a: number, b: number) => a + b);
await sc.stop();
process.stdout.write(`sum=${sum} expected=10\n`);
