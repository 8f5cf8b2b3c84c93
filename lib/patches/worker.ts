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
  /** Where the file was named, e.g. `<manifest> reconstructions[3].path`: prefixed to errors. */
  source?: string;
}

/** Reads and samples one volume (the work of a task, also used in-thread). */
export function samplePatchVolume(task: PatchVolumeTask) {
  try {
    return sampleNormalizedPatches(readNifti(task.file), task.config, new Rng(task.seed), task.file);
  } catch (err) {
    if (task.source && err instanceof Error) err.message = `${task.source}: ${err.message}`;
    throw err;
  }
}

serveTasks<PatchVolumeTask, ReturnType<typeof samplePatchVolume>>(__filename, () => ({
  handle: samplePatchVolume,
  transfer: (result) => [result.data.buffer as ArrayBuffer],
}));
