/**
 * Worker of extractFeaturesParallel: builds and compiles one backbone, then turns each batch it is
 * sent into flattened features. Started with tsx's CommonJS hook so it loads .ts sources.
 */
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { buildCompiledBackbone } from './features';
import type { FeatureWorkerData, FromWorker, ToWorker } from './protocol';

const port = parentPort;
if (!port) throw new Error('lib/accel/worker.ts must run as a worker thread');

const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function main(data: FeatureWorkerData): Promise<void> {
  const choice = await initBackend(data.backend ? { backend: data.backend } : {});
  const built = await buildCompiledBackbone(data);
  const { fn, inputSize } = built;
  port!.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      built.dispose();
      port!.close();
      return;
    }
    try {
      const out = tf.tidy(() => {
        const x = tf.tensor4d(msg.data, [msg.count, inputSize, inputSize, 3]);
        return fn(x);
      });
      const feats = out.dataSync() as Float32Array;
      out.dispose();
      // dataSync may return a view of backend memory; copy so the buffer can be transferred.
      const copy = feats.buffer.byteLength === feats.byteLength && feats.byteOffset === 0 ? feats : feats.slice();
      send({ type: 'result', index: msg.index, data: copy }, [copy.buffer as ArrayBuffer]);
    } catch (err) {
      send({ type: 'error', message: (err as Error).message, stack: (err as Error).stack });
    }
  });
  send({ type: 'ready', backend: choice.backend });
}

main(workerData as FeatureWorkerData).catch((err: Error) => send({ type: 'error', message: err.message, stack: err.stack }));
