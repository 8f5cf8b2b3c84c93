/**
 * Worker thread of buildPatchDataset: reads one NIfTI volume and samples its patches, so both cores
 * share the reading and sampling of a cohort.
 */
import { parentPort } from 'worker_threads';
import { readNifti } from '../io';
import { Rng } from '../util/rng';
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

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: { index: number; task: PatchVolumeTask }) => {
    try {
      const result = samplePatchVolume(msg.task);
      port.postMessage({ index: msg.index, result }, [result.data.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ index: msg.index, error: (err as Error).message });
    }
  });
}
