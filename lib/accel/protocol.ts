/** Data exchanged between FeatureWorkerPool and its workers (worker.ts), through lib/util/workers. */
import type { BackboneName } from '../backbones/registry';
import type { CompileForBackendOptions } from './graph';
import type { WeightsSource } from '../weights/source';

/** Everything a worker needs to build the same compiled backbone as the others. */
export interface FeatureWorkerData {
  backbone: BackboneName;
  /** Where the weights come from (lib/weights); undefined: buildBackbone's seeded init. */
  weights?: WeightsSource;
  inputSize: number;
  seed: number;
  /** Compiler options, or false to run the stock model.predict (for comparison). */
  compile: CompileForBackendOptions | false;
  /** Forced backend name (initBackend's `backend`), or undefined for the default choice. */
  backend?: string;
}

/** One batch of NHWC float32 images (count x inputSize x inputSize x 3). */
export interface FeatureBatch {
  count: number;
  data: Float32Array;
}

/** What a feature worker reports when its backbone is ready. */
export interface FeatureWorkerInfo {
  backend: string;
}
