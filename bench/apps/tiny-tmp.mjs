import { CinderContext } from 'cinder';

const sc = await CinderContext.getOrCreate({ appName: 'bench-tiny' });
const sum = await sc.parallelize([1, 2, 3, 4], 2).reduce((a, b) => a + b);
await sc.stop();
process.stdout.write(`sum=${sum} expected=10
`);
