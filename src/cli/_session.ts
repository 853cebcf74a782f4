import { Store, resolveDbPath } from '../store/index.ts';

/**
 * Opens the store for a command and owns Ctrl-C: the first SIGINT/SIGTERM aborts (the command
 * stops scheduling and finishes cleanly), a second closes the database and exits at once.
 */
export async function withStore<T>(dbFlag: string | undefined, body: (store: Store, signal: AbortSignal) => Promise<T>, options: { readonly?: boolean } = {}): Promise<T> {
  const controller = new AbortController();
  let store: Store | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      store?.close();
      process.stderr.write('\nInterrupted again: stopped at once; every completed attempt is in the database.\n');
      process.exit(130);
    }
    process.stderr.write(`\n${signal}: finishing the attempts in flight, starting no new ones (press Ctrl-C again to stop at once).\n`);
    controller.abort();
  };
  // Listening before the database opens: a Ctrl-C during a slow open is a clean stop, not a kill.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    store = Store.open(resolveDbPath(dbFlag), { readonly: options.readonly });
    return await body(store, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store?.close();
  }
}

export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}
