/**
 * Runs a suite once per compute backend available here, so that neither the native TensorFlow
 * path nor the wasm path (with this workspace's own kernels) rots. Native counts as available when
 * @tensorflow/tfjs-node resolves with its binding file (scripts/native-tf.sh builds it); where it
 * is not, its copy of the suite is reported as skipped. PET_IQA_TEST_BACKENDS=wasm (a comma list
 * of node, wasm) narrows the set.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { FAST_KERNELS_ENV_VAR, fastKernelVariant, initBackend, relaxedSimdAvailable } from '../../lib/backend';

/** Backends a suite can run on: native TensorFlow on the CPU, or WebAssembly. */
export type TestBackend = 'node' | 'wasm';
const ALL: TestBackend[] = ['node', 'wasm'];

/** Why native TensorFlow cannot run here, or null when its binding is installed. */
export function nativeUnavailableReason(): string | null {
  let manifest: string;
  try {
    manifest = require.resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    return '@tensorflow/tfjs-node is not installed (bash scripts/setup.sh builds it)';
  }
  const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string };
  if (pkg.name !== '@tensorflow/tfjs-node') return `${manifest} is ${pkg.name}, not the native binding`;
  const libDir = path.join(path.dirname(manifest), 'lib');
  const found = fs.existsSync(libDir) && fs.readdirSync(libDir).some((d) => fs.existsSync(path.join(libDir, d, 'tfjs_binding.node')));
  return found ? null : `${libDir}/napi-v*/tfjs_binding.node is missing (bash scripts/setup.sh builds it)`;
}

/** The backends selected by PET_IQA_TEST_BACKENDS (default both). */
export function requestedTestBackends(env: Record<string, string | undefined> = process.env): TestBackend[] {
  const raw = env.PET_IQA_TEST_BACKENDS?.trim();
  if (!raw) return ALL;
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(ALL as string[]).includes(n)) throw new Error(`PET_IQA_TEST_BACKENDS: unknown backend '${n}'; valid: ${ALL.join(', ')}`);
  }
  return names as TestBackend[];
}

/**
 * `describe(title [backend])` once per requested backend, with that backend active during the
 * suite (lib/backend's initBackend, so wasm has its own kernels) and the previous one put back after.
 * A native copy that cannot run is reported as one skipped test with the reason.
 */
export function describeOnBackends(title: string, body: (this: Mocha.Suite, backend: TestBackend) => void): void {
  for (const backend of requestedTestBackends()) {
    const unavailable = backend === 'node' ? nativeUnavailableReason() : null;
    describe(`${title} [${backend}]`, function () {
      if (unavailable) {
        it.skip(`native TensorFlow unavailable: ${unavailable}`);
        return;
      }
      let previous = 'cpu';
      before(async function () {
        this.timeout(60000);
        previous = tf.getBackend() ?? 'cpu';
        await initBackend({ backend, env: {} });
      });
      after(async () => {
        await tf.setBackend(previous);
      });
      body.call(this, backend);
    });
  }
}

/**
 * `describe(title [simd|relaxed])` once per build of the WebAssembly kernels
 * (lib/backend/fast-kernels): today's wasm SIMD, and relaxed SIMD where the engine has it, with
 * PET_IQA_FAST_KERNELS set accordingly during the suite and put back after.
 */
export function describeOnKernelVariants(title: string, body: (this: Mocha.Suite, variant: 'simd' | 'relaxed') => void): void {
  for (const variant of ['simd', 'relaxed'] as const) {
    describe(`${title} [${variant}]`, function () {
      if (variant === 'relaxed' && !relaxedSimdAvailable()) {
        it.skip(`relaxed SIMD is unavailable in this engine (Node ${process.version})`);
        return;
      }
      let previous: string | undefined;
      before(() => {
        previous = process.env[FAST_KERNELS_ENV_VAR];
        process.env[FAST_KERNELS_ENV_VAR] = variant === 'simd' ? 'simd' : '1';
        if (fastKernelVariant() !== variant) throw new Error(`test: could not select the ${variant} kernels`);
      });
      after(() => {
        if (previous === undefined) delete process.env[FAST_KERNELS_ENV_VAR];
        else process.env[FAST_KERNELS_ENV_VAR] = previous;
      });
      body.call(this, variant);
    });
  }
}
