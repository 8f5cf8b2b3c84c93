import * as tf from '@tensorflow/tfjs';

/**
 * Composes a kernel out of other kernels of one backend, the way tfjs backends build their own
 * composite kernels: each step calls a registered kernel function directly (no tape, no engine
 * bookkeeping), and every intermediate is released when the composite finishes or throws.
 */
export class KernelScope {
  private readonly intermediates: tf.TensorInfo[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
    /** Name of the composite kernel, used in error messages. */
    readonly owner: string,
  ) {}

  /** Runs kernel `kernelName` of this backend; the result is an intermediate of the scope. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (!kernel) {
      throw new Error(`${this.owner}: the '${this.backendName}' backend has no '${kernelName}' kernel to build on`);
    }
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend });
    if (Array.isArray(out)) {
      this.intermediates.push(...out);
      throw new Error(`${this.owner}: kernel '${kernelName}' returned several outputs where one was expected`);
    }
    this.intermediates.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    if (sameShape(x.shape, shape)) return x;
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.run('Transpose', { x }, { perm });
  }

  /**
   * Reverses the two leading (spatial) axes of a filter [kh, kw, ...]. Both flips together reverse
   * the flattened kh*kw index, done as slices and one concat: wasm's own Reverse is a generic
   * per-element loop (about 5 ms for a 1 x 1 x 960 x 160 filter). A 1 x 1 filter is returned as is.
   */
  flipSpatial(x: tf.TensorInfo): tf.TensorInfo {
    const [kh, kw, ...rest] = x.shape;
    const ks = kh * kw;
    if (ks === 1) return x;
    const inner = rest.reduce((a, b) => a * b, 1);
    const rows = this.reshape(x, [ks, inner]);
    const slices: tf.TensorInfo[] = [];
    for (let t = ks - 1; t >= 0; t--) slices.push(this.run('Slice', { x: rows }, { begin: [t, 0], size: [1, inner] }));
    return this.reshape(this.run('Concat', slices as unknown as tf.NamedTensorInfoMap, { axis: 0 }), x.shape);
  }

  /** Pads (positive amounts) and crops (negative amounts) each axis: `amounts[axis] = [before, after]`. */
  padOrCrop(x: tf.TensorInfo, amounts: Array<[number, number]>): tf.TensorInfo {
    let out = x;
    if (amounts.some(([b, a]) => b < 0 || a < 0)) {
      const begin = amounts.map(([b]) => Math.max(0, -b));
      const size = out.shape.map((d, i) => d - Math.max(0, -amounts[i][0]) - Math.max(0, -amounts[i][1]));
      if (size.some((d) => d <= 0)) throw new Error(`${this.owner}: cropping ${JSON.stringify(amounts)} empties a tensor of shape [${out.shape}]`);
      out = this.run('Slice', { x: out }, { begin, size });
    }
    if (amounts.some(([b, a]) => b > 0 || a > 0)) {
      const paddings = amounts.map(([b, a]) => [Math.max(0, b), Math.max(0, a)]);
      out = this.run('PadV2', { x: out }, { paddings, constantValue: 0 });
    }
    return out;
  }

  /**
   * Releases every intermediate except `result`, which is handed to the caller. Intermediates
   * sharing `result`'s data (reshapes) are reference-counted by the backend, so this is safe.
   */
  finish(result: tf.TensorInfo): tf.TensorInfo {
    if (!this.intermediates.includes(result)) {
      // Handing back an input unchanged would give the engine a tensor the caller still owns.
      this.release();
      throw new Error(`${this.owner}: internal error, the result is not a tensor this kernel made`);
    }
    for (const t of this.intermediates) if (t !== result) this.backend.disposeData(t.dataId);
    this.intermediates.length = 0;
    return result;
  }

  /** Releases every intermediate (on error). */
  release(): void {
    for (const t of this.intermediates) this.backend.disposeData(t.dataId);
    this.intermediates.length = 0;
  }
}

/** Runs `body` in a fresh scope and returns its result, releasing the intermediates in all cases. */
export function composeKernel(
  backend: tf.KernelBackend,
  backendName: string,
  owner: string,
  body: (scope: KernelScope) => tf.TensorInfo,
): tf.TensorInfo {
  const scope = new KernelScope(backend, backendName, owner);
  let result: tf.TensorInfo;
  try {
    result = body(scope);
  } catch (err) {
    scope.release();
    throw err;
  }
  return scope.finish(result);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
