export * from './wasm-gradient-kernels';
export { KernelScope, composeKernel } from './kernel-scope';
export * from './select';
