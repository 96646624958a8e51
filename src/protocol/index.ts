/** Every cross-process message of Cinder lives under src/protocol, one file per channel. */

export * from './am-launch.js';
export * from './cluster.js';
export * from './common.js';
export * from './executor.js';
