export { dial, PROTOCOL_VERSION, type ReplyHandle, RpcConnection, type RpcServer, serve } from './connection.js';
export { newSecret } from './auth.js';
