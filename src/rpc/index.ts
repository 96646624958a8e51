export { newSecret } from './auth.js';
export {
  dial,
  PROTOCOL_VERSION,
  type PartsReply,
  type PreListener,
  preListen,
  type ReplyHandle,
  RpcConnection,
  type RpcServer,
  serve,
} from './connection.js';
