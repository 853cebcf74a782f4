import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the main thread. SQLite copies the write-ahead log back into the database
 * when it reaches 1,000 pages, inside whichever commit crossed that mark, and syncs the file to
 * disk: a stall of tens of milliseconds on the thread that drives the run (its model calls, its
 * sandboxes), every few hundred attempts. A store that writes turns that off and has this
 * process's checkpointer, one worker thread with its own connection to each such store, copy the
 * log back every second instead. Nothing is lost either way: a commit is in the log when it
 * returns, and a store closed with no other connection open checkpoints and removes its log.
 */

const INTERVAL_MS = 1000;
/** How long close() waits for the checkpointer to let go of the store. */
const RELEASE_WAIT_MS = 2000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const released = new Int32Array(workerData.released);
const stores = new Map();
parentPort.on('message', ({ op, path, seq }) => {
  if (op === 'watch') {
    const entry = stores.get(path);
    if (entry) entry.count++;
    else {
      try {
        const db = new Database(path, { fileMustExist: true });
        db.pragma('busy_timeout = 0');
        stores.set(path, { db, count: 1 });
      } catch {}
    }
  } else if (op === 'release') {
    const entry = stores.get(path);
    if (entry && --entry.count <= 0) {
      stores.delete(path);
      try { entry.db.close(); } catch {}
    }
    Atomics.store(released, 0, seq);
    Atomics.notify(released, 0);
  }
});
setInterval(() => {
  for (const { db } of stores.values()) {
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  }
}, workerData.intervalMs);
`;

let worker: Worker | null | undefined;
const released = new Int32Array(new SharedArrayBuffer(4));
let seq = 0;

function checkpointer(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlite, released: released.buffer, intervalMs: INTERVAL_MS } });
    // It never keeps the process alive, and a failure of it only brings SQLite's own checkpoints back.
    worker.unref();
    worker.on('error', () => {
      worker = null;
    });
  } catch {
    worker = null;
  }
  return worker;
}

/**
 * Hands a writable store's checkpoints to the checkpointer; false when there is none (SQLite then
 * checkpoints in the commits, as by default).
 */
export function watchStore(path: string): boolean {
  const running = checkpointer();
  if (!running) return false;
  running.postMessage({ op: 'watch', path });
  return true;
}

/** Before the store's own connection closes: the checkpointer lets go, so that close can remove the log. */
export function releaseStore(path: string): void {
  if (!worker) return;
  const mine = ++seq;
  worker.postMessage({ op: 'release', path, seq: mine });
  const deadline = Date.now() + RELEASE_WAIT_MS;
  for (;;) {
    const seen = Atomics.load(released, 0);
    const left = deadline - Date.now();
    if (seen >= mine || left <= 0 || !worker) return;
    Atomics.wait(released, 0, seen, Math.min(left, 50));
  }
}
