/**
 * PageRank over an edge list ("src dst" per line): a multi-stage batch job (join + reduceByKey per
 * iteration over a cached link table), the kind of short cluster-mode app the seed describes.
 *
 *   npx cinder submit --master cinder://HOST:PORT --deploy-mode cluster examples/pagerank.ts EDGES OUTPUT_DIR [ITERATIONS]
 * Without arguments it ranks a small built-in graph and prints the result.
 */
import { CinderContext } from 'cinder';

const [edgesPath, output, iters = '10'] = process.argv.slice(2);
const sc = await CinderContext.getOrCreate({ appName: 'pagerank' });

const lines = edgesPath
  ? sc.textFile(edgesPath)
  : sc.parallelize(['a b', 'a c', 'b c', 'c a', 'd c', 'e a', 'e d', 'b e', 'e b']);
const links = lines
  .map((l) => l.trim().split(/\s+/) as [string, string])
  .filter((e) => e.length === 2)
  .groupByKey()
  .cache();
let ranks = links.mapValues(() => 1.0);

for (let i = 0; i < Number(iters); i++) {
  const contribs = links
    .join(ranks)
    .flatMap(([, [dsts, rank]]) => dsts.map((d) => [d, rank / dsts.length] as [string, number]));
  ranks = contribs.reduceByKey((a, b) => a + b).mapValues((r) => 0.15 + 0.85 * r);
}

if (output) {
  await ranks.map(([page, rank]) => `${page}\t${rank.toFixed(6)}`).saveAsTextFile(output);
  console.log(`wrote ${await ranks.count()} ranks to ${output}`);
} else {
  for (const [page, rank] of await ranks.sortBy(([, r]) => -r).collect()) console.log(`${page}\t${rank.toFixed(4)}`);
}
await sc.stop();
