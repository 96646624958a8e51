/**
 * WORDFREQ, hand-written single-threaded baseline of bench/workloads.ts `wordfreq` (the loop is in
 * user-fn-loops.ts): prints lines=N top25=w:n,...
 * usage: node build/bench/hand/wordfreq-hand.js <dir>
 */
import { handMain } from './hand-main.js';

await handMain('wordfreq');
