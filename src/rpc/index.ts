export { newSecret } from './auth.js';
export { dial, PROTOCOL_VERSION, type ReplyHandle, RpcConnection, type RpcServer, serve } from './connection.js';
