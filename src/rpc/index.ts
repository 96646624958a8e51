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
