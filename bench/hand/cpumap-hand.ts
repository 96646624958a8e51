/**
 * CPUMAP, hand-written single-threaded baseline of bench/workloads.ts `cpumap` (the loop is in
 * user-fn-loops.ts): prints rows=N steps=S max=M.
 * usage: node build/bench/hand/cpumap-hand.js <dir>
 */
import { handMain } from './hand-main.js';

await handMain('cpumap');
