import * as os from 'os';
import { Worker } from 'worker_threads';

/** Settings of a small task pool over worker threads. */
export interface MapInWorkersOptions<R> {
  /** Worker threads; 0 is not allowed here (callers run in-thread themselves). Default min(2, CPUs, tasks). */
  workers?: number;
  /** Called as each result arrives (in completion order), with its task index. */
  onResult?: (result: R, index: number) => void;
}

/**
 * Runs `tasks` through a TypeScript worker module (which answers each `{ index, task }` message with
 * `{ index, result }` or `{ index, error }`), at most `workers` at a time; results come back in task order.
 * Workers load TypeScript through tsx, resolved from this package so any working directory works.
 */
export async function mapInWorkers<T, R>(workerFile: string, tasks: readonly T[], opts: MapInWorkersOptions<R> = {}): Promise<R[]> {
  const results: R[] = new Array(tasks.length);
  if (tasks.length === 0) return results;
  const n = Math.max(1, Math.min(opts.workers ?? Math.min(2, os.cpus().length), tasks.length));
  const tsx = require.resolve('tsx/cjs');
  let next = 0;
  let failed: Error | undefined;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: n }, () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(workerFile, { execArgv: ['--require', tsx] });
          workers.push(w);
          const feed = () => {
            if (failed || next >= tasks.length) {
              void w.terminate().then(() => resolve());
              return;
            }
            const index = next++;
            w.postMessage({ index, task: tasks[index] });
          };
          w.on('message', (msg: { index: number; result?: R; error?: string }) => {
            if (msg.error !== undefined) {
              failed = new Error(msg.error);
              reject(failed);
              return;
            }
            results[msg.index] = msg.result as R;
            opts.onResult?.(msg.result as R, msg.index);
            feed();
          });
          w.on('error', (err) => {
            failed = err;
            reject(err);
          });
          feed();
        }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
