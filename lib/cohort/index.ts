export * from './presets';
export * from './patients';
export * from './image-metrics';
export * from './raters';
export * from './simulate';
export * from './generate';
export * from './resolution';
