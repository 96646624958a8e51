/**
 * The combine functions of a keyed aggregation (combineByKey): already compiled plain functions.
 * This file only declares the shape; shipping functions between processes is the scheduler's business.
 */
export interface Aggregator<V = any, C = any> {
  /** first value of a key (in one partition) becomes a combiner */
  createCombiner(v: V): C;
  /** folds one more value into a combiner; may mutate and return `c` */
  mergeValue(c: C, v: V): C;
  /** merges two combiners of the same key; may mutate and return `c1` */
  mergeCombiners(c1: C, c2: C): C;
  /**
   * Set for reduceByKey's shape: createCombiner is the identity and mergeValue and mergeCombiners are
   * this one function, so records need no re-tupling and number values can be folded in typed arrays.
   */
  reduce?: ((a: V, b: V) => V) | undefined;
}
