/**
 * What a peer learns of a failed request: the error's name, message and code, never the server's
 * stack (it names files, lines and internals; it stays in the server's log).
 */
import { CinderError, toWireError, type WireError } from '../common/errors.js';
import { logger } from '../common/log.js';

const log = logger('rpc');

export function peerError(e: unknown): WireError {
  const w = toWireError(e);
  return w.code === undefined
    ? { name: w.name, message: w.message }
    : { name: w.name, message: w.message, code: w.code };
}

/** peerError, and the stack of an unexpected (non-CinderError) failure goes to this process's log. */
export function peerErrorLogged(e: unknown, conn: string): WireError {
  if (e instanceof Error && !(e instanceof CinderError))
    log.warn({ conn, err: e.stack }, 'request failed; the caller gets the message without the stack');
  return peerError(e);
}
