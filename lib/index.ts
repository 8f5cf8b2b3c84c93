/**
 * pet-iqa: the workspace's library, one module per stage of the study.
 * Notebooks and scripts import from here (or from a stage, e.g. '../lib/patches').
 */
export * from './types';
export * from './util';
export * from './backend';
export * from './io';
export * from './manifest';
export * from './phantom';
export * from './recon';
export * from './cohort';
export * from './patches';
export * from './design';
export * from './backbones';
export * from './weights';
export * from './train';
export * from './transfer';
export * from './study';
export * from './figures';
export * from './workspace';
export * from './score';
export * from './accel';
export * from './pretext';
export * from './probe';
export * from './records';
export * from './baselines';

// Names that two stages both export: the explicit re-exports below pick one and rename the other.
export { getPreset } from './study';
export { getPreset as getCohortPreset } from './cohort';
export { randomLabelMAE } from './train';
export { randomLabelMAE as randomLabelMAEOfRuns } from './figures';
export { readModelMeta } from './score';
export { readModelMeta as readModelMetaFile } from './records';
export { cohortManifestPath } from './records';
