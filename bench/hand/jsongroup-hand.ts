/**
 * JSONGROUP, hand-written single-threaded baseline of bench/workloads.ts `jsongroup` (the loop is in
 * user-fn-loops.ts): prints keys=K total=T sumsq_mod=S.
 * usage: node build/bench/hand/jsongroup-hand.js <dir>
 */
import { handMain } from './hand-main.js';

await handMain('jsongroup');
