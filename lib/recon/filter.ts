/** FWHM (mm) to Gaussian sigma (mm). */
export function fwhmToSigma(fwhm: number): number {
  return fwhm / (2 * Math.sqrt(2 * Math.LN2));
}

/** Normalised sampled Gaussian of the given sigma (in samples), 2 * radius + 1 taps. */
export function gaussianKernel(sigma: number, radius: number): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  if (sigma <= 0) {
    k[radius] = 1;
    return k;
  }
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * The taps of a Gaussian blur of `sigma` samples: out to 4 sigma (at least 1), normalised; for
 * sigma <= 0 radius 0 (the identity).
 */
export function gaussianTaps(sigma: number): { kernel: Float32Array; radius: number } {
  const radius = sigma > 0 ? Math.max(1, Math.ceil(4 * sigma)) : 0;
  return { kernel: gaussianKernel(sigma, radius), radius };
}

/**
 * Convolves `len` consecutive samples of `src` (from `srcOff`) with a symmetric kernel, zero
 * outside them; writes sample t to dst[dstOff + t * dstStride].
 */
export function convolveLine(
  src: Float32Array | Float64Array,
  srcOff: number,
  len: number,
  kernel: Float32Array,
  radius: number,
  dst: Float32Array,
  dstOff: number,
  dstStride: number,
): void {
  for (let t = 0; t < len; t++) {
    let acc = 0;
    const kLo = Math.max(-radius, -t);
    const kHi = Math.min(radius, len - 1 - t);
    for (let k = kLo; k <= kHi; k++) acc += kernel[k + radius] * src[srcOff + t + k];
    dst[dstOff + t * dstStride] = acc;
  }
}

/**
 * Separable 3-D Gaussian filter (the clinical post-filter), zero outside the volume.
 * The kernel is sampled at voxel centres out to 4 sigma and normalised, so the mean is kept
 * away from the edges. Returns a new array; `data` is [nx, ny, nz] with i fastest.
 */
export function gaussianFilter3d(
  data: Float32Array,
  dims: [number, number, number],
  fwhmMm: number | [number, number, number],
  voxelMm: [number, number, number],
): Float32Array {
  const [nx, ny, nz] = dims;
  if (data.length !== nx * ny * nz) throw new Error(`gaussianFilter3d: data length ${data.length} does not match dims ${dims.join('x')}`);
  const fwhm = Array.isArray(fwhmMm) ? fwhmMm : [fwhmMm, fwhmMm, fwhmMm];
  let cur = Float32Array.from(data);
  const strides = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    if (!(fwhm[axis] >= 0)) throw new Error(`gaussianFilter3d: FWHM must be >= 0, got ${fwhm[axis]}`);
    const sigma = fwhmToSigma(fwhm[axis]) / voxelMm[axis];
    if (sigma <= 0) continue;
    const { kernel, radius } = gaussianTaps(sigma);
    cur = convolveAxis(cur, dims, axis, strides[axis], kernel, radius);
  }
  return cur;
}

function convolveAxis(
  src: Float32Array,
  dims: [number, number, number],
  axis: number,
  stride: number,
  kernel: Float32Array,
  radius: number,
): Float32Array {
  const out = new Float32Array(src.length);
  const len = dims[axis];
  const line = new Float64Array(len);
  const [nx, ny, nz] = dims;
  // Iterate over every line parallel to `axis`.
  const outer = axis === 0 ? [ny, nz] : axis === 1 ? [nx, nz] : [nx, ny];
  for (let v = 0; v < outer[1]; v++) {
    for (let u = 0; u < outer[0]; u++) {
      const base = axis === 0 ? nx * (u + ny * v) : axis === 1 ? u + nx * ny * v : u + nx * v;
      let any = false;
      for (let t = 0; t < len; t++) {
        const val = src[base + t * stride];
        line[t] = val;
        if (val !== 0) any = true;
      }
      if (!any) continue;
      convolveLine(line, 0, len, kernel, radius, out, base, stride);
    }
  }
  return out;
}
