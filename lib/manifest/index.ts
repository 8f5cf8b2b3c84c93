export * from './schema';
export * from './labels';
export * from './validate';
export * from './load';
export * from './paper';
export * from './checksums';
export * from './intensity';
