export * from './design';
