/**
 * Worker of FeatureWorkerPool: builds and compiles one backbone, then turns each batch it is sent
 * into flattened features. Served through lib/util/workers (TaskPool), which loads it with tsx.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { serveTasks } from '../util/workers';
import { buildCompiledBackbone } from './features';
import type { FeatureBatch, FeatureWorkerData, FeatureWorkerInfo } from './protocol';

serveTasks<FeatureBatch, Float32Array, never, FeatureWorkerInfo>(__filename, async (raw) => {
  const data = raw as FeatureWorkerData;
  const choice = await initBackend(data.backend ? { backend: data.backend } : {});
  const { fn, inputSize } = await buildCompiledBackbone(data);
  return {
    info: { backend: choice.backend },
    handle: (batch) => {
      const out = tf.tidy(() => fn(tf.tensor4d(batch.data, [batch.count, inputSize, inputSize, 3])));
      const feats = out.dataSync() as Float32Array;
      out.dispose();
      // dataSync may return a view of backend memory; copy so the buffer can be transferred.
      return feats.buffer.byteLength === feats.byteLength && feats.byteOffset === 0 ? feats : feats.slice();
    },
    transfer: (feats) => [feats.buffer as ArrayBuffer],
  };
});
