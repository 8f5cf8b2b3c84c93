/**
 * Worker of FeatureWorkerPool: builds and compiles one backbone, then turns each batch it is sent
 * into flattened features. Served through lib/util/workers (TaskPool), which loads it with tsx.
 */
import { initBackend } from '../backend';
import { serveTasks } from '../util/workers';
import { buildCompiledBackbone } from './features';
import type { FeatureBatch, FeatureWorkerData, FeatureWorkerInfo } from './protocol';

serveTasks<FeatureBatch, Float32Array, never, FeatureWorkerInfo>(__filename, async (raw) => {
  const data = raw as FeatureWorkerData;
  const choice = await initBackend(data.backend ? { backend: data.backend } : {});
  const built = await buildCompiledBackbone(data);
  return {
    info: { backend: choice.backend },
    handle: (batch) => built.features(batch),
    transfer: (feats) => [feats.buffer as ArrayBuffer],
  };
});
