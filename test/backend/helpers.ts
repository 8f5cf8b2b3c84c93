import * as tf from '@tensorflow/tfjs';
import { quietCpuBanner, registerWasmGradientKernels } from '../../lib/backend';
import { Rng } from '../../lib/util/rng';

/** Reproducible standard-normal values. */
export function normalValues(size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal();
  return out;
}

/** max|a - b| / max|b| (the brief's relative error). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: lengths differ (${a.length} vs ${b.length})`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Runs `body` with `backend` active and returns the values and shape of its result. */
export async function onBackend(
  backend: string,
  body: () => tf.Tensor,
): Promise<{ values: Float32Array; shape: number[] }> {
  if (!(await tf.setBackend(backend))) throw new Error(`test: backend '${backend}' failed to initialise`);
  const t = tf.tidy(body);
  const values = (await t.data()) as Float32Array;
  const shape = t.shape.slice();
  t.dispose();
  return { values, shape };
}

/** Mocha hooks for the calling suite: put back, after it, the backend the suites before it had. */
export function restoreBackendAfterSuite(): void {
  let previous = 'cpu';
  before(() => {
    previous = tf.getBackend() ?? 'cpu';
  });
  after(async () => {
    await tf.setBackend(previous);
  });
}

/**
 * Mocha hooks for the calling suite: register the workspace's wasm kernels, run the suite on wasm
 * (the cpu backend stays available for references), then restore the previous backend.
 */
export function useWasmBackend(): void {
  restoreBackendAfterSuite();
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    quietCpuBanner();
    registerWasmGradientKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('test: the wasm backend failed to initialise');
  });
}
