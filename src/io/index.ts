/** File input/output for Cinder: path expansion, split planning, split readers, output commit, line formats. */
export * from './formats.js';
export { globToRegExp, hasGlob, splitPathList } from './glob.js';
export * from './output.js';
export * from './paths.js';
export * from './splits.js';
export * from './text-reader.js';
