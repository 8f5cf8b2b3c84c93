/**
 * Worker thread of buildPatchDataset: reads one NIfTI volume and samples its patches, so both cores
 * share the reading and sampling of a cohort.
 */
import { readNifti } from '../io';
import { Rng } from '../util/rng';
import { serveTasks } from '../util/workers';
import { voxelP99 } from '../manifest/intensity';
import { sampleNormalizedPatches, type PatchSamplerConfig, type SampledPatches } from './sampler';

export interface PatchVolumeTask {
  file: string;
  seed: number;
  config: PatchSamplerConfig;
  /** Where the file was named, e.g. `<manifest> reconstructions[3].path`: prefixed to errors. */
  source?: string;
  /** Also return the header's units and the voxels' 99th percentile (for intensityProblems). Default false. */
  intensity?: boolean;
}

/** A sampled volume, with its intensity summary when the task asked for it. */
export type SampledVolume = SampledPatches & { intensity?: { headerUnits?: string; p99: number } };

/** Reads and samples one volume (the work of a task, also used in-thread). */
export function samplePatchVolume(task: PatchVolumeTask): SampledVolume {
  try {
    const volume = readNifti(task.file);
    const sampled: SampledVolume = sampleNormalizedPatches(volume, task.config, new Rng(task.seed), task.file);
    if (task.intensity) sampled.intensity = { headerUnits: volume.units, p99: voxelP99(volume) };
    return sampled;
  } catch (err) {
    if (task.source && err instanceof Error) err.message = `${task.source}: ${err.message}`;
    throw err;
  }
}

serveTasks<PatchVolumeTask, ReturnType<typeof samplePatchVolume>>(__filename, () => ({
  handle: samplePatchVolume,
  transfer: (result) => [result.data.buffer as ArrayBuffer],
}));
