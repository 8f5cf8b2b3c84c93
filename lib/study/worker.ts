/**
 * Worker-thread entry: initialises its own backend, then runs jobs posted by the pool.
 * Started with tsx's CommonJS hook (execArgv --require tsx/cjs), so it can load .ts sources.
 */
import { parentPort, workerData } from 'worker_threads';
import type { StudyContext, Job } from './jobs';

interface Incoming {
  id: number;
  job: Job;
  info?: { backend: string; provenance: import('../types').WeightsProvenance };
}

async function main(): Promise<void> {
  const ctx = workerData as StudyContext;
  const { initBackend } = require('../backend') as typeof import('../backend');
  const choice = await initBackend(ctx.backend ? { backend: ctx.backend } : {});
  const jobs = require('./jobs') as typeof import('./jobs');
  parentPort!.postMessage({ type: 'ready', backend: choice.backend });
  parentPort!.on('message', async (msg: Incoming) => {
    try {
      let result: unknown;
      if (msg.job.type === 'extract') {
        result = await jobs.runExtractJob(ctx, msg.job, (done) => parentPort!.postMessage({ type: 'progress', id: msg.id, done }));
      } else {
        const rec = await jobs.runTrainJob(ctx, msg.job.spec, msg.info!);
        result = { id: rec.id, testMAE: rec.metrics.testMAE.overall, seconds: rec.timings.totalSeconds };
      }
      parentPort!.postMessage({ type: 'done', id: msg.id, result });
    } catch (err) {
      const e = err as Error;
      parentPort!.postMessage({ type: 'error', id: msg.id, error: `${e.message}\n${e.stack ?? ''}` });
    }
  });
}

main().catch((err) => {
  parentPort!.postMessage({ type: 'fatal', error: `${(err as Error).message}\n${(err as Error).stack ?? ''}` });
});
