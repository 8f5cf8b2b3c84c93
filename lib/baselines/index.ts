export * from './features';
export * from './ridge';
