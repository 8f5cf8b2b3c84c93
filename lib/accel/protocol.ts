/** Messages between extractFeaturesParallel and its workers (worker.ts). */
import type { CompileInferenceOptions } from './compile';

/** Everything a worker needs to build the same compiled backbone as the others. */
export interface FeatureWorkerData {
  backbone: string;
  /** 'imagenet' | 'random' | a weights file; undefined: buildBackbone's seeded init. */
  weights?: string;
  inputSize: number;
  seed: number;
  /** Compiler options, or false to run the stock model.predict (for comparison). */
  compile: CompileInferenceOptions | false;
  /** Forced backend name (initBackend's `backend`), or undefined for the default choice. */
  backend?: string;
}

export type ToWorker =
  | { type: 'batch'; index: number; count: number; data: Float32Array }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'result'; index: number; data: Float32Array }
  | { type: 'error'; message: string; stack?: string };
