export * from './presets';
export * from './plan';
export * from './data';
export * from './jobs';
export * from './pool';
export * from './summary';
export * from './runner';
export * from './baselines';
