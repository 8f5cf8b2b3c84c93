/**
 * A small pool of worker threads, each with its own tfjs backend (wasm runs one thread per
 * process, so two workers use both cores). `size: 0` runs jobs inline in this thread (tests, debugging).
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { Job, StudyContext } from './jobs';
import type { WeightsProvenance } from '../types';

type Info = { backend: string; provenance: WeightsProvenance };

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (done: number) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  ready: Promise<string>;
}

export class WorkerPool {
  private slots: Slot[] = [];
  private queue: Array<{ id: number; job: Job; info?: Info }> = [];
  private pending = new Map<number, Pending & { slot?: Slot }>();
  private nextId = 1;
  private closed = false;

  constructor(
    private ctx: StudyContext,
    readonly size: number,
  ) {
    if (!(Number.isInteger(size) && size >= 0)) throw new Error(`WorkerPool: size must be an integer >= 0, got ${size}`);
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(path.join(__dirname, 'worker.ts'), { execArgv: ['--require', 'tsx/cjs'], workerData: this.ctx });
    let readyResolve!: (b: string) => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<string>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    ready.catch(() => undefined);
    const slot: Slot = { worker, busy: false, ready };
    worker.on('message', (msg: { type: string; id?: number; done?: number; result?: unknown; error?: string; backend?: string }) => {
      if (msg.type === 'ready') {
        readyResolve(msg.backend!);
        this.pump();
        return;
      }
      if (msg.type === 'fatal') {
        readyReject(new Error(`worker failed to start: ${msg.error}`));
        this.failAll(new Error(`worker failed to start: ${msg.error}`));
        return;
      }
      const p = this.pending.get(msg.id!);
      if (!p) return;
      if (msg.type === 'progress') {
        p.onProgress?.(msg.done!);
        return;
      }
      this.pending.delete(msg.id!);
      slot.busy = false;
      if (msg.type === 'done') p.resolve(msg.result);
      else p.reject(new Error(msg.error));
      this.pump();
    });
    worker.on('error', (err) => {
      readyReject(err);
      this.failAll(err);
    });
    worker.on('exit', (code) => {
      if (!this.closed && code !== 0) this.failAll(new Error(`worker exited with code ${code}`));
    });
    return slot;
  }

  private failAll(err: Error): void {
    for (const [, p] of this.pending) p.reject(err);
    this.pending.clear();
    this.queue = [];
  }

  /** The backend each worker chose. */
  backends(): Promise<string[]> {
    return Promise.all(this.slots.map((s) => s.ready));
  }

  /** Runs a job; resolves with its result (ExtractResult, or a run summary). */
  run<T>(job: Job, info?: Info, onProgress?: (done: number) => void): Promise<T> {
    if (this.size === 0) return this.runInline(job, info, onProgress) as Promise<T>;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      this.queue.push({ id, job, info });
      this.pump();
    });
  }

  private async runInline(job: Job, info?: Info, onProgress?: (done: number) => void): Promise<unknown> {
    const jobs = require('./jobs') as typeof import('./jobs');
    if (job.type === 'extract') return jobs.runExtractJob(this.ctx, job, onProgress);
    const rec = await jobs.runTrainJob(this.ctx, job.spec, info!);
    return { id: rec.id, testMAE: rec.metrics.testMAE.overall, seconds: rec.timings.totalSeconds };
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      // Messages wait for the worker's ready (it initialises its backend first).
      const item = this.queue.shift()!;
      slot.busy = true;
      slot.ready
        .then(() => slot.worker.postMessage(item))
        .catch((e: Error) => this.pending.get(item.id)?.reject(e));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
