import type { Connection } from '@temporalio/client';

type CallContext = NonNullable<ReturnType<Connection['callContextStorage']['getStore']>>;

/**
 * Makes a Temporal client connection carry its per-call context (the namespace header,
 * a deadline, an abort signal) without turning promise hooks on.
 *
 * The client keeps that context in an AsyncLocalStorage, and every namespaced call enters it
 * (`withMetadata` around each workflow-service method: every start, update, query). On Node 20
 * an AsyncLocalStorage that is entered turns promise hooks on for the whole process, and from
 * then on every promise and I/O callback of every request pays for them (measured on the
 * propose path: 288 → 244 µs of API CPU per decision when they are off). The client reads the
 * context only synchronously, inside the call that set it: the RPC implementation takes it
 * before the request leaves. So a plain synchronous slot carries it exactly: `run` holds its
 * value for its synchronous part, with no propagation across awaits and no hooks.
 */
export function synchronousCallContext(connection: Connection): void {
  const storage = connection.callContextStorage;
  let current: CallContext | undefined;
  const run = <R>(store: CallContext | undefined, fn: (...args: unknown[]) => R, ...args: unknown[]): R => {
    const previous = current;
    current = store;
    try {
      return fn(...args);
    } finally {
      current = previous;
    }
  };
  storage.disable();
  Object.assign(storage, {
    getStore: () => current,
    run,
    exit: <R>(fn: (...args: unknown[]) => R, ...args: unknown[]): R => run(undefined, fn, ...args),
    enterWith: (store: CallContext) => {
      current = store;
    },
  });
}
