export * from './design';
export * from './read';
