/**
 * Worker thread of buildPatchDataset: reads one NIfTI volume and samples its patches, so both cores
 * share the reading and sampling of a cohort.
 */
import { readNifti } from '../io';
import { Rng } from '../util/rng';
import { serveTasks } from '../util/workers';
import { sampleNormalizedPatches, type PatchSamplerConfig } from './sampler';

export interface PatchVolumeTask {
  file: string;
  seed: number;
  config: PatchSamplerConfig;
}

/** Reads and samples one volume (the work of a task, also used in-thread). */
export function samplePatchVolume(task: PatchVolumeTask) {
  return sampleNormalizedPatches(readNifti(task.file), task.config, new Rng(task.seed), task.file);
}

serveTasks<PatchVolumeTask, ReturnType<typeof samplePatchVolume>>(__filename, () => ({
  handle: samplePatchVolume,
  transfer: (result) => [result.data.buffer as ArrayBuffer],
}));
