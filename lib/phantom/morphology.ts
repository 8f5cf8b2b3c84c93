/**
 * Squared Euclidean distance (in mm^2) from every voxel to the nearest voxel of `mask`
 * (Felzenszwalb & Huttenlocher's exact separable transform). Isotropic or anisotropic voxels.
 */
export function distanceTransformSq(mask: Uint8Array, dims: [number, number, number], voxelMm: [number, number, number]): Float64Array {
  const [nx, ny, nz] = dims;
  const INF = 1e20;
  const d = new Float64Array(nx * ny * nz);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] ? 0 : INF;
  const maxLen = Math.max(nx, ny, nz);
  const f = new Float64Array(maxLen);
  const res = new Float64Array(maxLen);
  const v = new Int32Array(maxLen);
  const z = new Float64Array(maxLen + 1);
  const pass = (len: number, stride: number, base: number, w2: number) => {
    for (let t = 0; t < len; t++) f[t] = d[base + t * stride];
    edt1d(f, len, w2, res, v, z);
    for (let t = 0; t < len; t++) d[base + t * stride] = res[t];
  };
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) pass(nx, 1, nx * (j + ny * k), voxelMm[0] ** 2);
  for (let k = 0; k < nz; k++) for (let i = 0; i < nx; i++) pass(ny, nx, i + nx * ny * k, voxelMm[1] ** 2);
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) pass(nz, nx * ny, i + nx * j, voxelMm[2] ** 2);
  return d;
}

/** 1-D lower envelope of parabolas w2 * (q - p)^2 + f(p). */
function edt1d(f: Float64Array, n: number, w2: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s: number;
    for (;;) {
      const p = v[k];
      s = (f[q] + w2 * q * q - (f[p] + w2 * p * p)) / (2 * w2 * (q - p));
      if (s <= z[k] && k > 0) k--;
      else break;
    }
    if (s <= z[k]) {
      // k == 0 and the new parabola dominates everywhere.
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const p = v[k];
    out[q] = w2 * (q - p) * (q - p) + f[p];
  }
}

/** Voxels within `radiusMm` of the mask (a ball dilation). */
export function dilate(mask: Uint8Array, dims: [number, number, number], voxelMm: [number, number, number], radiusMm: number): Uint8Array {
  const d2 = distanceTransformSq(mask, dims, voxelMm);
  const r2 = radiusMm * radiusMm;
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = d2[i] <= r2 ? 1 : 0;
  return out;
}
