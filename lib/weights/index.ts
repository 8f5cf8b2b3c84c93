export * from './h5';
export * from './tfjs';
export * from './cache';
export * from './layout';
export * from './source';
export * from './backbone';
export * from './option';
