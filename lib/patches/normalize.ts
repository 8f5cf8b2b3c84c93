import type { Volume } from '../types';

/**
 * The minimum and maximum of a volume's voxels, for min-max normalisation; `source` names the
 * volume in errors. Throws at the first NaN/Inf voxel, and for a constant volume.
 */
export function minMaxOf(data: Float32Array, source = 'volume'): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new Error(`${source}: voxel ${i} is ${v}; cannot normalise a volume with NaN/Inf`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) throw new Error(`${source}: constant volume (all voxels ${min}); min-max normalisation needs contrast`);
  return { min, max };
}

/**
 * Min-max normalisation of a whole 3-D volume to [0, 1], on its own (the paper's pre-processing).
 * A constant volume has no contrast to normalise and is rejected, since every patch would be
 * background and a division by zero would hide the problem.
 */
export function normalizeMinMax(volume: Volume, source = 'volume'): Volume {
  const { data } = volume;
  const { min, max } = minMaxOf(data, source);
  const scale = 1 / (max - min);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - min) * scale;
  return { ...volume, data: out, units: 'normalised [0,1]' };
}
