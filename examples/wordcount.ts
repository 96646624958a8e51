/**
 * Word count: the classic first job. Runs unchanged in local, client and cluster mode:
 *   npx cinder submit examples/wordcount.ts [INPUT] [OUTPUT_DIR]
 * Without INPUT it counts the words of this repository's README.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CinderContext } from 'cinder';

const here = path.dirname(fileURLToPath(import.meta.url));
const input = process.argv[2] ?? path.join(here, '..', 'README.md');
const output = process.argv[3];

const sc = await CinderContext.getOrCreate({ appName: 'wordcount' });
const counts = sc
  .textFile(input)
  .flatMap((line) => line.split(/\s+/))
  .filter((w) => w.length > 0)
  .map((w) => [w.toLowerCase(), 1] as [string, number])
  .reduceByKey((a, b) => a + b);

if (output) {
  await counts.map(([w, n]) => `${w}\t${n}`).saveAsTextFile(output);
  console.log(`wrote ${await counts.count()} distinct words to ${output}`);
} else {
  for (const [w, n] of await counts.takeOrdered(10, ([, n]) => -n)) console.log(`${n}\t${w}`);
}
await sc.stop();
