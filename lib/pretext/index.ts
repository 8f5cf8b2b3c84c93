/**
 * Self-supervised pretext pretraining (issue 13): a whole backbone trained from random init on a
 * label-free task of the cohort's non-test patients, saved as Keras .h5 weights, made on demand.
 */
export * from './data';
export * from './train';
export * from './cache';
export * from './resolve';
