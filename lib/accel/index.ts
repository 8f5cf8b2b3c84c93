/**
 * Fast frozen-backbone inference: a graph compiler (BN folding, fused activations, direct ops) and
 * multi-worker feature extraction.
 */
export * from './compile';
export * from './graph';
export * from './train_graph';
export * from './features';
export type { FeatureWorkerData } from './protocol';
