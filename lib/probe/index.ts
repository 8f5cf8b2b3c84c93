/**
 * Probes (issue 13): where in a backbone the quality scores can be read out, block by block, with
 * ridge regression on pooled activations; the data of Fig. 9.
 */
export * from './points';
export * from './ridge';
export * from './result';
export * from './run';
