/**
 * The boundary around this workspace's own fast kernels for the tfjs wasm backend, and its one switch.
 *
 * What lies behind it:
 * - lib/backend/wasm/conv.wat (-> conv_wasm.ts): convolution as an indirect GEMM, replacing
 *   tfjs-backend-wasm's Conv2D/FusedConv2D (lib/backend/wasm-igemm.ts) and used by lib/accel;
 * - wasm kernel replacements for training: Conv2DBackpropInput and float32 Tile
 *   (lib/backend/wasm-gradient-kernels.ts, wasm-tile.ts);
 * - lib/train/wasm/head.wat (-> head_wasm.ts): the Dense head trainer (lib/train/head_simd.ts).
 * (The gradient kernels wasm lacks altogether, Conv2DBackpropFilter and the depthwise ones, are not
 * speed-ups but what makes training possible on wasm; they stay registered either way.)
 *
 * Tied to tfjs 4.22.0: the convolution module imports the wasm backend's own memory and reads its
 * private fields (`wasm.asm.memory`, `dataIdMap`, `makeOutput`, `disposeData`) and kernel
 * registry; another tfjs-backend-wasm version turns the fast kernels off (with this reason) until
 * they are checked against it.
 *
 * Each WebAssembly kernel comes in two builds (scripts/build-wasm.ts): wasm SIMD, and relaxed SIMD
 * whose f32x4.relaxed_madd fuses multiply and add where the CPU has FMA (Node 22 has it by default;
 * on Node 20 it is enabled here with V8's --experimental-wasm-relaxed-simd when the engine knows it).
 *
 * The switch, PET_IQA_FAST_KERNELS: 0 runs tfjs's own kernels and the JavaScript head trainer
 * everywhere (same results to float32 rounding, slower); simd uses the fast kernels without relaxed
 * SIMD (today's kernels, the fallback); 1 or unset uses them with relaxed SIMD where available.
 */
import * as fs from 'fs';
import * as v8 from 'v8';
import { CONV_WASM_RELAXED_BASE64, CONV_WASM_BASE64 } from './wasm/conv_wasm';
import { HEAD_WASM_RELAXED_BASE64, HEAD_WASM_BASE64 } from '../train/wasm/head_wasm';

/** Environment variable of the switch ('0' off, 'simd' without relaxed SIMD, '1' or unset on). */
export const FAST_KERNELS_ENV_VAR = 'PET_IQA_FAST_KERNELS';
/** The tfjs-backend-wasm version whose private fields the kernels use. */
export const FAST_KERNELS_TFJS_VERSION = '4.22.0';

/** One committed WebAssembly module and the .wat source it is assembled from (scripts/build-wasm.ts). */
export interface FastKernelModule {
  /** Short name. */
  name: 'conv' | 'head';
  /** Source, relative to the project root. */
  wat: string;
  /** Generated TypeScript module holding the bytes (base64), relative to the project root. */
  generated: string;
  /** Export name of the base64 string in `generated`. */
  exportName: string;
  /** What it computes (for the generated file's header). */
  what: string;
}

export const FAST_KERNEL_MODULES: readonly FastKernelModule[] = [
  { name: 'head', wat: 'lib/train/wasm/head.wat', generated: 'lib/train/wasm/head_wasm.ts', exportName: 'HEAD_WASM_BASE64', what: 'The head trainer kernel' },
  { name: 'conv', wat: 'lib/backend/wasm/conv.wat', generated: 'lib/backend/wasm/conv_wasm.ts', exportName: 'CONV_WASM_BASE64', what: 'The indirect-GEMM convolution kernel' },
];

let versionCache: string | undefined;
function installedWasmVersion(): string {
  if (versionCache === undefined) {
    try {
      const file = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
      versionCache = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      versionCache = 'not installed';
    }
  }
  return versionCache;
}

/**
 * Why the fast kernels are off, or null when they are on: the switch, or a tfjs-backend-wasm other
 * than the version they are tied to. A bad switch value is an error naming the variable.
 */
export function fastKernelsDisabledReason(env: Record<string, string | undefined> = process.env, wasmVersion = installedWasmVersion()): string | null {
  const raw = env[FAST_KERNELS_ENV_VAR]?.trim();
  if (raw !== undefined && raw !== '' && raw !== '0' && raw !== '1' && raw !== 'simd') {
    throw new Error(`${FAST_KERNELS_ENV_VAR}=${raw}: expected 0 (off), simd (no relaxed SIMD) or 1 (on)`);
  }
  if (raw === '0') return `${FAST_KERNELS_ENV_VAR}=0`;
  if (wasmVersion !== FAST_KERNELS_TFJS_VERSION) {
    return `@tensorflow/tfjs-backend-wasm is ${wasmVersion}; the fast kernels are tied to ${FAST_KERNELS_TFJS_VERSION}`;
  }
  return null;
}

/** True when the fast kernels are on (see fastKernelsDisabledReason). */
export function fastKernelsEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return fastKernelsDisabledReason(env) === null;
}

/** A relaxed-SIMD function (f32x4.relaxed_madd of its three v128 arguments), to probe the engine. */
const RELAXED_PROBE = 'AGFzbQEAAAABCAFgA3t7ewF7AwIBAAcFAQFmAAAKDQELACAAIAEgAv2FAgs=';
let relaxedCache: boolean | undefined;

/** Whether this engine compiles relaxed SIMD (enabling V8's flag on Node 20 if needed). */
export function relaxedSimdAvailable(): boolean {
  if (relaxedCache !== undefined) return relaxedCache;
  const probe = Buffer.from(RELAXED_PROBE, 'base64');
  const compiles = () => {
    try {
      new WebAssembly.Module(probe);
      return true;
    } catch {
      return false;
    }
  };
  relaxedCache = compiles();
  if (!relaxedCache) {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedCache = compiles();
  }
  return relaxedCache;
}

/** Which build of the WebAssembly kernels runs: off (tfjs's kernels), simd, or relaxed. */
export type FastKernelVariant = 'off' | 'simd' | 'relaxed';

export function fastKernelVariant(env: Record<string, string | undefined> = process.env): FastKernelVariant {
  if (fastKernelsDisabledReason(env) !== null) return 'off';
  if (env[FAST_KERNELS_ENV_VAR]?.trim() === 'simd') return 'simd';
  return relaxedSimdAvailable() ? 'relaxed' : 'simd';
}

const BYTES: Record<FastKernelModule['name'], Record<'simd' | 'relaxed', string>> = {
  conv: { simd: CONV_WASM_BASE64, relaxed: CONV_WASM_RELAXED_BASE64 },
  head: { simd: HEAD_WASM_BASE64, relaxed: HEAD_WASM_RELAXED_BASE64 },
};

/** The committed bytes of one kernel build. */
export function kernelBytes(name: FastKernelModule['name'], variant: 'simd' | 'relaxed'): Uint8Array {
  return Buffer.from(BYTES[name][variant], 'base64');
}
