export * from './rng';
export * from './files';
export * from './provenance';
