export * from './rng';
export * from './files';
export * from './provenance';
export * from './workers';
