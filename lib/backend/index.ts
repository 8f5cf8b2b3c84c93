/**
 * Compute backend: choose and initialise the TensorFlow.js backend (`initBackend`), and make the
 * wasm backend able to train conv nets (`registerWasmGradientKernels`, done by initBackend).
 */
export * from './select';
export * from './wasm-gradient-kernels';
export { IgemmConv2D, igemmUnavailableReason, indirectionTable, igemmCallCounts, type IgemmConv2DArgs, type IgemmActivation } from './wasm-igemm';
export { KernelScope, composeKernel } from './kernel-scope';
export * from './fast-kernels';
