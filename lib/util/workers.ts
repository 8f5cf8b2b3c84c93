/**
 * One small worker-thread pool for every parallel stage (cohort simulation, patch sampling, feature
 * extraction, study jobs). Each worker module calls {@link serveTasks}; the main thread starts a
 * {@link TaskPool} on it (or calls {@link mapInWorkers} for a one-off list of tasks).
 *
 * Protocol (structured-clone messages):
 *   main -> worker  { type: 'task', id, task }
 *   worker -> main  { type: 'ready', info } once set-up is done (a backend chosen, a model built)
 *                   { type: 'progress', id, progress } any number of times while task id runs
 *                   { type: 'done', id, result } or { type: 'error', id, message }
 *                   { type: 'fatal', message } when set-up fails
 * Workers load TypeScript through tsx, resolved from this package so any working directory works.
 */
import * as os from 'os';
import * as path from 'path';
import { Worker, parentPort, workerData } from 'worker_threads';

type ToWorker<T> = { type: 'task'; id: number; task: T };
type FromWorker<R, P, I> =
  | { type: 'ready'; info: I }
  | { type: 'progress'; id: number; progress: P }
  | { type: 'done'; id: number; result: R }
  | { type: 'error'; id: number; message: string; stack?: string }
  | { type: 'fatal'; message: string; stack?: string };

/** What a worker module's set-up returns. */
export interface TaskHandler<T, R, P, I> {
  /** Sent to the pool when the worker is ready (for example the backend it chose). */
  info?: I;
  /** Runs one task; `progress` reports partial progress to the task's caller. */
  handle(task: T, progress: (p: P) => void): R | Promise<R>;
  /** Buffers of a result to transfer instead of copy (they become unusable in the worker). */
  transfer?(result: R): ArrayBuffer[];
}

/** workerData of a TaskPool worker: which module the pool started, and the caller's data. */
interface PoolWorkerData {
  taskPoolEntry: string;
  data: unknown;
}

/**
 * Worker side: runs `setup(workerData)` once, reports ready, then answers tasks one at a time.
 * `entryFile` is the calling module's __filename: only the module a TaskPool started serves, so
 * worker modules can import one another (and be imported in the main thread) without answering
 * each other's tasks.
 */
export function serveTasks<T, R, P = never, I = undefined>(entryFile: string, setup: (data: unknown) => TaskHandler<T, R, P, I> | Promise<TaskHandler<T, R, P, I>>): void {
  const port = parentPort;
  const wd = workerData as PoolWorkerData | undefined;
  if (!port || !wd || typeof wd.taskPoolEntry !== 'string' || path.resolve(wd.taskPoolEntry) !== path.resolve(entryFile)) return;
  const send = (m: FromWorker<R, P, I>, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const described = (err: unknown) => (err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) });
  Promise.resolve()
    .then(() => setup(wd.data))
    .then(
      (handler) => {
        // Tasks run one after another even when a handler is async.
        let chain: Promise<void> = Promise.resolve();
        port.on('message', (msg: ToWorker<T>) => {
          chain = chain.then(async () => {
            try {
              const result = await handler.handle(msg.task, (progress) => send({ type: 'progress', id: msg.id, progress }));
              send({ type: 'done', id: msg.id, result }, handler.transfer?.(result) ?? []);
            } catch (err) {
              send({ type: 'error', id: msg.id, ...described(err) });
            }
          });
        });
        send({ type: 'ready', info: handler.info as I });
      },
      (err) => send({ type: 'fatal', ...described(err) }),
    );
}

/** Worker threads used when a caller does not say: one per core, at most 2 (the machines this targets). */
export function defaultWorkerCount(): number {
  return Math.min(2, os.cpus().length);
}

/** Settings of a {@link TaskPool}. */
export interface TaskPoolOptions {
  /** Worker threads. Default min(2, CPUs). */
  workers?: number;
  /** Passed to every worker's set-up. */
  workerData?: unknown;
  /** Tasks sent to one worker before its first answer (2 overlaps the sending of the next task). Default 1. */
  tasksPerWorker?: number;
  /** Prefixes task errors with '<label> <worker index>: ', for example 'feature worker'. Default: no prefix. */
  label?: string;
}

interface Slot {
  worker: Worker;
  index: number;
  inFlight: number;
  ready: boolean;
}

interface Pending<R, P> {
  resolve(r: R): void;
  reject(e: Error): void;
  onProgress?: (p: P) => void;
}

/**
 * A fixed set of worker threads running one module's tasks: tasks queue in order and go to the
 * first worker with room. A worker that throws outside a task, fails its set-up or exits breaks
 * the pool: every pending and later task rejects with that error.
 */
export class TaskPool<T, R, P = never, I = undefined> {
  private readonly slots: Array<Slot> = [];
  private readonly queue: Array<{ id: number; task: T; transfer: ArrayBuffer[] }> = [];
  private readonly pending = new Map<number, Pending<R, P>>();
  private readonly readyAll: Promise<I[]>;
  private readonly perWorker: number;
  private readonly label: string | undefined;
  private nextId = 1;
  private failure: Error | null = null;
  private closed = false;

  constructor(workerFile: string, opts: TaskPoolOptions = {}) {
    const n = opts.workers ?? defaultWorkerCount();
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`TaskPool: workers must be an integer >= 1, got ${n}`);
    this.perWorker = Math.max(1, opts.tasksPerWorker ?? 1);
    this.label = opts.label;
    const tsx = require.resolve('tsx/cjs');
    const readies: Array<Promise<I>> = [];
    for (let index = 0; index < n; index++) {
      const wd: PoolWorkerData = { taskPoolEntry: path.resolve(workerFile), data: opts.workerData };
      const worker = new Worker(workerFile, { execArgv: ['--require', tsx], workerData: wd });
      const slot: Slot = { worker, index, inFlight: 0, ready: false };
      this.slots.push(slot);
      readies.push(
        new Promise<I>((resolve, reject) => {
          worker.on('message', (msg: FromWorker<R, P, I>) => {
            if (msg.type === 'ready') {
              slot.ready = true;
              resolve(msg.info);
              this.pump();
            } else if (msg.type === 'fatal') {
              const err = withStack(new Error(`${this.label ?? 'worker'} ${index} failed to start: ${msg.message}`), msg.stack);
              reject(err);
              this.fail(err);
            } else this.answer(slot, msg);
          });
          worker.on('error', (err) => {
            const e = withStack(new Error(`${this.label ?? 'worker'} ${index}: ${err.message}`), err.stack);
            reject(e);
            this.fail(e);
          });
          worker.on('exit', (code) => {
            if (this.closed) return;
            const e = new Error(`${this.label ?? 'worker'} ${index} exited (code ${code})`);
            reject(e);
            this.fail(e);
          });
        }),
      );
    }
    this.readyAll = Promise.all(readies);
    this.readyAll.catch(() => undefined);
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** Resolves with every worker's ready info once all have started; rejects if one fails. */
  ready(): Promise<I[]> {
    return this.readyAll;
  }

  /** Runs one task; `transfer` lists buffers of the task to move rather than copy. */
  run(task: T, opts: { onProgress?: (p: P) => void; transfer?: ArrayBuffer[] } = {}): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`${this.label ?? 'worker'} pool is closed`));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress: opts.onProgress });
      this.queue.push({ id, task, transfer: opts.transfer ?? [] });
      this.pump();
    });
  }

  private answer(slot: Slot, msg: Exclude<FromWorker<R, P, I>, { type: 'ready' } | { type: 'fatal' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    slot.inFlight--;
    if (msg.type === 'done') p.resolve(msg.result);
    else p.reject(withStack(new Error(this.label ? `${this.label} ${slot.index}: ${msg.message}` : msg.message), msg.stack));
    this.pump();
  }

  private pump(): void {
    if (this.failure) return;
    for (let room = true; room && this.queue.length > 0; ) {
      room = false;
      // The least busy ready worker takes the next task.
      let best: Slot | null = null;
      for (const s of this.slots) if (s.ready && s.inFlight < this.perWorker && (!best || s.inFlight < best.inFlight)) best = s;
      if (!best) return;
      const item = this.queue.shift()!;
      best.inFlight++;
      best.worker.postMessage({ type: 'task', id: item.id, task: item.task } satisfies ToWorker<T>, item.transfer);
      room = true;
    }
  }

  private fail(err: Error): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    this.rejectAll(err);
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.queue.length = 0;
  }

  /** Stops the workers; tasks still pending reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new Error(`${this.label ?? 'worker'} pool closed`));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** The worker's stack frames under the main thread's message. */
function withStack(e: Error, workerStack: string | undefined): Error {
  if (workerStack) e.stack = `${e.message}\n${workerStack.split('\n').slice(1).join('\n')}`;
  return e;
}

/** Settings of {@link mapInWorkers}. */
export interface MapInWorkersOptions<T, R, P = never> {
  /** Worker threads; 0 is not allowed here (callers run in-thread themselves). Default min(2, CPUs, tasks). */
  workers?: number;
  /** Passed to every worker's set-up. */
  workerData?: unknown;
  /** Called as each result arrives (in completion order), with its task index. */
  onResult?: (result: R, index: number) => void;
  /** Called with a task's progress reports, with its task index. */
  onProgress?: (progress: P, index: number) => void;
  /** Names a failed task in its error: '<name>: <worker's message>'. Default: the message alone. */
  taskName?: (task: T, index: number) => string;
}

/**
 * Runs `tasks` through a worker module that calls {@link serveTasks}, at most `workers` at a time;
 * results come back in task order. The first failure rejects the whole map.
 */
export async function mapInWorkers<T, R, P = never>(workerFile: string, tasks: readonly T[], opts: MapInWorkersOptions<T, R, P> = {}): Promise<R[]> {
  if (tasks.length === 0) return [];
  const n = Math.max(1, Math.min(opts.workers ?? defaultWorkerCount(), tasks.length));
  const pool = new TaskPool<T, R, P, unknown>(workerFile, { workers: n, workerData: opts.workerData });
  try {
    return await Promise.all(
      tasks.map((task, i) =>
        pool.run(task, { onProgress: opts.onProgress && ((p) => opts.onProgress!(p, i)) }).then(
          (r) => {
            opts.onResult?.(r, i);
            return r;
          },
          (err: Error) => {
            throw opts.taskName ? withStack(new Error(`${opts.taskName(task, i)}: ${err.message}`), err.stack) : err;
          },
        ),
      ),
    );
  } finally {
    await pool.close();
  }
}
