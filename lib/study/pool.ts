/**
 * The study's worker threads, each with its own tfjs backend (wasm runs one thread per process, so
 * two workers use both cores), over lib/util/workers' TaskPool. `size: 0` runs jobs inline in this
 * thread (tests, debugging).
 */
import * as path from 'path';
import { TaskPool } from '../util/workers';
import * as jobs from './jobs';
import type { ExtractResult, Job, StudyContext } from './jobs';
import type { WeightsProvenance } from '../types';

/** What a job needs besides itself: the backend and the weights provenance the main process resolved (required by training jobs). */
export type JobInfo = { backend: string; provenance: WeightsProvenance };

/** A job as sent to a study worker (lib/study/worker.ts). */
export interface StudyTask {
  job: Job;
  info?: JobInfo;
}

/** A training job's answer (the full record is written by the worker). */
export interface TrainJobSummary {
  id: string;
  testMAE: number;
  seconds: number;
}

/** Runs a study job in this thread (also what a study worker does with each task). */
export async function runStudyTask(ctx: StudyContext, task: StudyTask, onProgress?: (done: number) => void): Promise<unknown> {
  if (task.job.type === 'extract') return jobs.runExtractJob(ctx, task.job, task.info?.provenance, onProgress);
  if (!task.info) throw new Error(`study job ${task.job.spec.id}: no backend/provenance info given`);
  const rec = await jobs.runTrainJob(ctx, task.job.spec, task.info);
  return { id: rec.id, testMAE: rec.metrics.testMAE.overall, seconds: rec.timings.totalSeconds } satisfies TrainJobSummary;
}

/** Buffers of a task's result to move rather than copy back to the main thread: an extraction's arrays. */
export function resultTransfer(result: unknown): ArrayBuffer[] {
  const arrays = (result as Partial<ExtractResult> | undefined)?.arrays;
  return arrays ? arrays.map((a) => a.data.buffer as ArrayBuffer) : [];
}

export class WorkerPool {
  private readonly pool: TaskPool<StudyTask, unknown, number, { backend: string }> | null;

  constructor(
    private ctx: StudyContext,
    readonly size: number,
  ) {
    if (!(Number.isInteger(size) && size >= 0)) throw new Error(`WorkerPool: size must be an integer >= 0, got ${size}`);
    this.pool = size > 0 ? new TaskPool(path.join(__dirname, 'worker.ts'), { workers: size, workerData: ctx, label: 'study worker' }) : null;
  }

  /** The backend each worker chose. */
  async backends(): Promise<string[]> {
    if (!this.pool) return [];
    return (await this.pool.ready()).map((i) => i.backend);
  }

  /** Runs a job; resolves with its result (ExtractResult, or a TrainJobSummary). */
  run<T>(job: Job, info?: JobInfo, onProgress?: (done: number) => void): Promise<T> {
    const task: StudyTask = { job, info };
    if (!this.pool) return runStudyTask(this.ctx, task, onProgress) as Promise<T>;
    return this.pool.run(task, { onProgress }) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
