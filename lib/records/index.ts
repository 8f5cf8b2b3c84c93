export * from './schema';
export * from './read';
export * from './results_dir';
