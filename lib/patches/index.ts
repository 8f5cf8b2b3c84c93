export * from './normalize';
export * from './sampler';
export * from './preprocess';
export * from './dataset';
