/**
 * Whether Cinder's own handles keep the process alive (decision 0019).
 *
 * A driver run by `cinder submit` (local and client mode) behaves as a Node program does: it lives while
 * the app has work of its own — a server listening, a timer, a pending job — and ends when the event
 * loop has nothing left but Cinder's handles (its RPC sockets and servers, executor processes, the UI's
 * port). For that `cinder submit` calls `ownHandlesKeepAlive(false)`: every handle Cinder creates from
 * then on passes through `own()`, which unrefs it, and work Cinder must finish (starting, a job, stopping)
 * holds the process with `holdProcess()` meanwhile. A cluster-mode AM (the driver in the AM) does the same
 * for the whole process, its AM work included: the app's handles decide how long it runs. Other processes
 * (executors, a client-mode AM, the RM, NMs, a plain `node app.js`) keep the default: their handles are
 * ordinary, referenced ones.
 */

let keepAlive = true;

export function ownHandlesKeepAlive(on: boolean): void {
  keepAlive = on;
}

/** Unrefs `h` when Cinder's handles must not keep the process alive; returns it. */
export function own<T extends { unref(): unknown }>(h: T): T {
  if (!keepAlive) h.unref();
  return h;
}

let holds = 0;
let timer: NodeJS.Timeout | undefined;

/**
 * Keeps the process alive until the returned release is called (once; later calls do nothing). One
 * referenced timer stands for every hold, so a job costs no syscall of its own.
 */
export function holdProcess(): () => void {
  if (holds++ === 0) timer = setInterval(() => {}, 1 << 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * After the app's main returned: resolves when the event loop has nothing left but Cinder's own handles
 * (Node's beforeExit: the app's servers are closed, its timers done, no job runs) or when the context was
 * stopped (sc.stop(), a signal). Needs `ownHandlesKeepAlive(false)` and no hold left.
 */
export function untilAppIdle(sc: { _whenStopped(): Promise<void> } | undefined): Promise<void> {
  if (!sc) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const idle = (): void => resolve();
    process.once('beforeExit', idle);
    void sc._whenStopped().then(() => {
      process.off('beforeExit', idle);
      resolve();
    });
  });
}
