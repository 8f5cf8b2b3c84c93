export * from './template';
export * from './geometry';
export * from './resample';
export * from './morphology';
export * from './phantom';
export * from './body';
