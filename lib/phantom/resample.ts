import { NCH, TemplateSet } from './template';

/**
 * Resamples every template channel onto a box of a PET grid, averaging over the PET voxel:
 * `supersample`^3 trilinear samples per voxel at the centres of equal sub-cells (partial-volume
 * averaging, not point sampling).
 * @param boxToWorld 3 x 4 box-index -> patient world; @param worldToTemplate 3 x 4 patient world -> template world.
 * @returns NCH interleaved channels per box voxel.
 */
export function resampleTemplate(
  tpl: TemplateSet,
  boxDims: [number, number, number],
  boxToWorld: number[][],
  worldToTemplate: number[][],
  supersample: number,
): Float32Array {
  if (!(Number.isInteger(supersample) && supersample >= 1)) throw new Error(`resampleTemplate: supersample must be an integer >= 1, got ${supersample}`);
  const [bx, by, bz] = boxDims;
  const out = new Float32Array(bx * by * bz * NCH);
  // Compose box index -> template index (template grid is 1 mm, axis-aligned).
  const T = [0, 1, 2].map((r) => {
    const row = [0, 0, 0, 0];
    for (let c = 0; c < 4; c++) {
      let v = 0;
      for (let m = 0; m < 3; m++) v += worldToTemplate[r][m] * boxToWorld[m][c];
      if (c === 3) v += worldToTemplate[r][3] - tpl.origin[r];
      row[c] = v;
    }
    return row;
  });
  const [tx, ty, tz] = tpl.dims;
  const ch = tpl.channels;
  const S = supersample;
  const subs = new Float64Array(S);
  for (let s = 0; s < S; s++) subs[s] = (s + 0.5) / S - 0.5;
  const acc = new Float64Array(NCH);
  const inv = 1 / (S * S * S);
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      for (let i = 0; i < bx; i++) {
        acc.fill(0);
        let any = false;
        for (let sk = 0; sk < S; sk++) {
          for (let sj = 0; sj < S; sj++) {
            for (let si = 0; si < S; si++) {
              const pi = i + subs[si], pj = j + subs[sj], pk = k + subs[sk];
              const x = T[0][0] * pi + T[0][1] * pj + T[0][2] * pk + T[0][3];
              const y = T[1][0] * pi + T[1][1] * pj + T[1][2] * pk + T[1][3];
              const z = T[2][0] * pi + T[2][1] * pj + T[2][2] * pk + T[2][3];
              if (x < 0 || y < 0 || z < 0 || x > tx - 1 || y > ty - 1 || z > tz - 1) continue;
              const x0 = Math.min(Math.floor(x), tx - 2), y0 = Math.min(Math.floor(y), ty - 2), z0 = Math.min(Math.floor(z), tz - 2);
              const fx = x - x0, fy = y - y0, fz = z - z0;
              const base = x0 + tx * (y0 + ty * z0);
              const sx = 1, sy = tx, sz = tx * ty;
              const w000 = (1 - fx) * (1 - fy) * (1 - fz), w100 = fx * (1 - fy) * (1 - fz);
              const w010 = (1 - fx) * fy * (1 - fz), w110 = fx * fy * (1 - fz);
              const w001 = (1 - fx) * (1 - fy) * fz, w101 = fx * (1 - fy) * fz;
              const w011 = (1 - fx) * fy * fz, w111 = fx * fy * fz;
              const o000 = base * NCH, o100 = (base + sx) * NCH, o010 = (base + sy) * NCH, o110 = (base + sx + sy) * NCH;
              const o001 = (base + sz) * NCH, o101 = (base + sx + sz) * NCH, o011 = (base + sy + sz) * NCH, o111 = (base + sx + sy + sz) * NCH;
              if (ch[o000 + 0] === 0 && ch[o111 + 0] === 0 && ch[o100] === 0 && ch[o011] === 0 && ch[o000 + 5] === 0 && ch[o111 + 5] === 0) {
                // Far outside the head all channels are zero: skip the blend.
                if (ch[o010] === 0 && ch[o110] === 0 && ch[o001] === 0 && ch[o101] === 0) continue;
              }
              any = true;
              for (let c = 0; c < NCH; c++) {
                acc[c] +=
                  w000 * ch[o000 + c] + w100 * ch[o100 + c] + w010 * ch[o010 + c] + w110 * ch[o110 + c] +
                  w001 * ch[o001 + c] + w101 * ch[o101 + c] + w011 * ch[o011 + c] + w111 * ch[o111 + c];
              }
            }
          }
        }
        if (!any) continue;
        const o = (i + bx * (j + by * k)) * NCH;
        for (let c = 0; c < NCH; c++) out[o + c] = acc[c] * inv;
      }
    }
  }
  return out;
}

/**
 * Box-averages every template channel over a cube of side `voxelMm` (the PET voxel), so that one
 * trilinear sample of the result per PET voxel is its partial-volume average. Done once per
 * cohort instead of supersampling every patient. Returns a new template (shared when asked).
 */
export function boxAverageTemplate(tpl: TemplateSet, voxelMm: number, shared = false): TemplateSet {
  if (!(voxelMm > 0)) throw new Error(`boxAverageTemplate: voxelMm must be > 0, got ${voxelMm}`);
  // Weight of template voxel offset t: overlap of [t - 0.5, t + 0.5] with [-w/2, w/2] (1 mm voxels).
  const half = voxelMm / 2;
  const r = Math.ceil(half - 0.5);
  const weights: number[] = [];
  for (let t = -r; t <= r; t++) weights.push(Math.max(0, Math.min(t + 0.5, half) - Math.max(t - 0.5, -half)) / voxelMm);
  if (NCH !== 6) throw new Error('boxAverageTemplate: written for 6 channels');
  const wts = Float64Array.from(weights);
  const [nx, ny, nz] = tpl.dims;
  let src: Float32Array = tpl.channels;
  const lens = [nx, ny, nz];
  const voxStrides = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    const dst = new Float32Array(src.length);
    const len = lens[axis];
    const stride = voxStrides[axis] * NCH;
    const [uLen, vLen] = axis === 0 ? [ny, nz] : axis === 1 ? [nx, nz] : [nx, ny];
    const [uStride, vStride] = axis === 0 ? [nx, nx * ny] : axis === 1 ? [1, nx * ny] : [1, nx];
    for (let v = 0; v < vLen; v++) {
      for (let u = 0; u < uLen; u++) {
        const base = (u * uStride + v * vStride) * NCH;
        for (let t = 0; t < len; t++) {
          const o = base + t * stride;
          const lo = Math.max(0, t - r);
          const hi = Math.min(len - 1, t + r);
          for (let q = lo; q <= hi; q++) {
            const w = wts[q - t + r];
            const so = base + q * stride;
            dst[o] += w * src[so];
            dst[o + 1] += w * src[so + 1];
            dst[o + 2] += w * src[so + 2];
            dst[o + 3] += w * src[so + 3];
            dst[o + 4] += w * src[so + 4];
            dst[o + 5] += w * src[so + 5];
          }
        }
      }
    }
    src = dst;
  }
  if (shared) {
    const sh = new Float32Array(new SharedArrayBuffer(src.length * 4));
    sh.set(src);
    src = sh;
  }
  return { ...tpl, channels: src };
}
