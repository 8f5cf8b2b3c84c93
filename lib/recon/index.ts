export * from './projector';
export * from './acquisition';
export * from './osem';
export * from './filter';
