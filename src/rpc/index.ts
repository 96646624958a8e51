export { newSecret } from './auth.js';
export {
  dial,
  type PartsReply,
  PROTOCOL_VERSION,
  type PreListener,
  preListen,
  type ReplyHandle,
  RpcConnection,
  type RpcServer,
  serve,
} from './connection.js';
export { ReconnectingChannel, type ReconnectingOptions, type RequestConn } from './reconnecting.js';
export { Backoff, type Clock, isTransportError, type RetryPolicy, systemClock } from './retry.js';
