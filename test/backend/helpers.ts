import * as tf from '@tensorflow/tfjs';
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
