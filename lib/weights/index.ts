export * from './h5';
export * from './tfjs';
export * from './cache';
export * from './backbone';
