export * from './model';
export * from './reference';
export * from './score';
export * from './figure';
export * from './batch';
