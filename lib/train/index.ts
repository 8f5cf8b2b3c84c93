export * from './head';
export * from './metrics';
export * from './evaluate';
export * from './graph';
export * from './features';
export * from './suffix';
export * from './head_simd';
