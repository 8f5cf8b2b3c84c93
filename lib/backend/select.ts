/**
 * Chooses the TensorFlow.js compute backend: native TensorFlow with a GPU, native TensorFlow on
 * the CPU, WebAssembly (XNNPACK, SIMD), or plain JavaScript, first that works. Every script and
 * worker entry point calls `await initBackend()` before using tf.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isMainThread } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { fastKernelsDisabledReason } from './fast-kernels';
import { registerWasmGradientKernels, RegisterWasmGradientKernelsArgs } from './wasm-gradient-kernels';

/** Names accepted by `InitBackendArgs.backend` and the PET_IQA_BACKEND environment variable. */
export const BACKEND_NAMES = ['gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Environment variable that forces a backend (the `backend` argument wins over it). */
export const BACKEND_ENV_VAR = 'PET_IQA_BACKEND';

const NATIVE_PACKAGES = { gpu: '@tensorflow/tfjs-node-gpu', node: '@tensorflow/tfjs-node' } as const;
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const CPU_PACKAGE = '@tensorflow/tfjs-backend-cpu';
/** The backend name both native packages register. */
const NATIVE_BACKEND = 'tensorflow';

export interface InitBackendArgs {
  /** Force one backend: 'gpu' | 'node' | 'wasm' | 'cpu'. Default: PET_IQA_BACKEND, else the first that works. */
  backend?: string;
  /** Environment to read PET_IQA_BACKEND from. Default process.env. */
  env?: Record<string, string | undefined>;
  /**
   * Folders to resolve the optional native packages from (Node's `require.resolve` paths).
   * Default: ordinary resolution from this module, i.e. the workspace's node_modules.
   */
  nativeSearchPaths?: string[];
  /**
   * Register the composed wasm kernels when wasm is chosen (true, or options for
   * registerWasmGradientKernels; they apply to the first registration in the process). Default true.
   */
  registerWasmKernels?: boolean | RegisterWasmGradientKernelsArgs;
  /**
   * Backends this process will run at once (the study's or feature extraction's worker threads).
   * Native TensorFlow's threads are planned from it (see nativeThreadPlan). Default 1.
   */
  workers?: number;
}

/** One candidate tried during selection. */
export interface BackendAttempt {
  candidate: BackendName;
  ok: boolean;
  detail: string;
}

/** What `initBackend` chose and why. */
export interface BackendChoice {
  /** tf.getBackend() after selection: 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
  /** The candidate name that won ('gpu' | 'node' | 'wasm' | 'cpu'). */
  candidate: BackendName;
  /** npm package providing it. */
  package: string;
  /** Why this one: forced by argument or environment, or first working in the automatic order. */
  reason: string;
  /** Candidates tried, in order. */
  attempts: BackendAttempt[];
  /** wasm only: whether the SIMD build runs. */
  simd?: boolean;
  /** wasm and cpu: compute threads used by the backend. */
  threads?: number;
  /** wasm only: kernels registered by this module (see registerWasmGradientKernels). */
  extraKernels?: string[];
  /** Native only: the TensorFlow version of the C library the binding runs (e.g. '2.21.0'). */
  tensorflow?: string;
  /** Native only: TensorFlow's inter-op threads (TF_NUM_INTEROP_THREADS); `threads` is the intra-op count. */
  interOpThreads?: number;
  /** Native only: folder of the loaded binding package (lib/accel/graph reads its SavedModel protobuf classes there). */
  nativePackageDir?: string;
}

/** One line for records: package, version and the library underneath, e.g. '@tensorflow/tfjs-node 4.22.0 on TensorFlow 2.21.0'. */
export function describeBackend(choice: BackendChoice | undefined = current): string {
  if (!choice) return 'no backend initialised';
  const version = `${choice.package} ${tf.version.tfjs}`;
  if (choice.tensorflow) return `${version} on TensorFlow ${choice.tensorflow}, ${choice.threads ?? '?'} intra-op thread(s)`;
  if (choice.candidate === 'wasm') return `${version}, ${choice.simd ? 'SIMD' : 'no SIMD'}, ${choice.threads ?? 1} thread(s)`;
  return version;
}

/** TensorFlow's thread counts for a process that runs `workers` backends at once on `cpus` cores. */
export interface NativeThreadPlan {
  /** Threads one op may use (TF_NUM_INTRAOP_THREADS). */
  intraOp: number;
  /** Ops run side by side (TF_NUM_INTEROP_THREADS). */
  interOp: number;
}

/**
 * Plans native TensorFlow's threads for a process whose `workers` threads run TensorFlow side by side.
 * TensorFlow keeps one intra-op pool per process, shared by every context and session of it, worker
 * threads included, and sized when the first is made: it gets all the cores (with a pool of
 * cores / workers, two study workers on 2 cores shared one thread and extracted features at 181
 * img/s instead of 320). Each worker's graph sessions get an inter-op thread of their own (one
 * shared inter-op thread: 278 img/s).
 */
export function nativeThreadPlan(workers = 1, cpus = os.cpus().length): NativeThreadPlan {
  const cores = Math.max(1, Math.floor(cpus));
  return { intraOp: cores, interOp: Math.min(cores, Math.max(1, Math.floor(workers))) };
}

/** Environment variables TensorFlow reads when its library loads; a value the user set wins. */
export const TF_THREAD_ENV = { intraOp: 'TF_NUM_INTRAOP_THREADS', interOp: 'TF_NUM_INTEROP_THREADS' } as const;

/**
 * Sets TensorFlow's log level and thread counts in the process environment before its library
 * loads. Only the main thread can: a worker thread's process.env is a copy that native code does not
 * see (workers inherit what the main thread set). Returns the counts in effect.
 */
export function applyNativeEnvironment(workers: number | undefined, env: NodeJS.ProcessEnv = process.env): NativeThreadPlan {
  const plan = nativeThreadPlan(workers);
  if (isMainThread || env !== process.env) {
    // INFO and WARNING (CPU feature guard, XLA notes) off unless the user asked for them.
    env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    // oneDNN's eager kernels in the tensorflow-cpu 2.21 wheel die with SIGFPE on 1x1 convolutions of
    // 512 -> 1024 channels at small spatial sizes (ResNet50's conv4_block1_0_conv at 32 x 32, any
    // ONEDNN_MAX_CPU_ISA); TensorFlow's own Eigen kernels run them. Off also silences oneDNN's notice.
    env.TF_ENABLE_ONEDNN_OPTS ??= '0';
    env[TF_THREAD_ENV.intraOp] ??= String(plan.intraOp);
    env[TF_THREAD_ENV.interOp] ??= String(plan.interOp);
  }
  const read = (name: string, fallback: number) => {
    const v = Number(env[name]);
    return Number.isInteger(v) && v > 0 ? v : fallback;
  };
  return { intraOp: read(TF_THREAD_ENV.intraOp, os.cpus().length), interOp: read(TF_THREAD_ENV.interOp, os.cpus().length) };
}

let current: BackendChoice | undefined;
/** The request (forced name and its source) that produced `current`. */
let currentRequest: string | undefined;
/** Serialises selections so concurrent calls do not interleave tf.setBackend. */
let pending: Promise<unknown> = Promise.resolve();

/** The last choice made by initBackend, or undefined before the first call. */
export function currentBackend(): BackendChoice | undefined {
  return current;
}

/** Parses a backend name; an unknown name gives an error listing the valid ones. */
export function parseBackendName(value: string, source: string): BackendName {
  const name = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`${source}: unknown backend '${value}'; valid names are ${BACKEND_NAMES.join(', ')}`);
}

/**
 * Selects and initialises the backend. Order: `args.backend`, then PET_IQA_BACKEND, else the first
 * of gpu, node, wasm, cpu that initialises. A forced backend that fails throws (no silent fallback).
 * Idempotent: asking again for the same thing returns the same choice (re-activating it if other
 * code switched tf's backend); asking for a different backend switches.
 */
export function initBackend(args: InitBackendArgs = {}): Promise<BackendChoice> {
  const run = pending.then(() => select(args));
  pending = run.catch(() => undefined);
  return run;
}

async function select(args: InitBackendArgs): Promise<BackendChoice> {
  const env = args.env ?? process.env;
  const envValue = env[BACKEND_ENV_VAR];
  let forced: BackendName | undefined;
  let reason: string;
  if (args.backend !== undefined && args.backend !== '') {
    forced = parseBackendName(args.backend, 'initBackend argument backend');
    reason =
      envValue && envValue.trim() !== ''
        ? `forced by argument backend='${forced}' (overrides ${BACKEND_ENV_VAR}=${envValue})`
        : `forced by argument backend='${forced}'`;
  } else if (envValue !== undefined && envValue.trim() !== '') {
    forced = parseBackendName(envValue, `environment variable ${BACKEND_ENV_VAR}`);
    reason = `forced by ${BACKEND_ENV_VAR}=${envValue}`;
  } else {
    reason = `automatic: first working of ${BACKEND_NAMES.join(', ')}`;
  }

  if (current && currentRequest === reason) {
    if (tf.getBackend() !== current.backend) await tf.setBackend(current.backend);
    return current;
  }

  quietCpuBanner();
  const attempts: BackendAttempt[] = [];
  const candidates: BackendName[] = forced ? [forced] : [...BACKEND_NAMES];
  for (const candidate of candidates) {
    const result = await tryCandidate(candidate, args);
    attempts.push({ candidate, ok: result.ok, detail: result.detail });
    if (result.ok) {
      const choice: BackendChoice = {
        backend: tf.getBackend(),
        candidate,
        package: result.pkg,
        reason: forced ? reason : `${reason}: ${candidate} (${result.detail})`,
        attempts,
        ...result.extra,
      };
      current = choice;
      currentRequest = reason;
      return choice;
    }
  }
  if (forced) {
    throw new Error(`initBackend: backend '${forced}' (${reason}) is unavailable: ${attempts[0].detail}`);
  }
  throw new Error(`initBackend: no backend initialised: ${attempts.map((a) => `${a.candidate}: ${a.detail}`).join('; ')}`);
}

interface CandidateResult {
  ok: boolean;
  detail: string;
  pkg: string;
  extra?: Partial<BackendChoice>;
}

async function tryCandidate(candidate: BackendName, args: InitBackendArgs): Promise<CandidateResult> {
  switch (candidate) {
    case 'gpu':
    case 'node':
      return tryNative(candidate, args.nativeSearchPaths, args.workers);
    case 'wasm':
      return tryWasm(args.registerWasmKernels ?? true);
    case 'cpu':
      return tryCpu();
  }
}

/** The native binding: resolves it, checks it is the real package, loads it, activates it. */
async function tryNative(candidate: 'gpu' | 'node', searchPaths?: string[], workers?: number): Promise<CandidateResult> {
  const pkg = NATIVE_PACKAGES[candidate];
  const fail = (detail: string): CandidateResult => ({ ok: false, detail, pkg });

  // A GPU package loaded earlier already owns the 'tensorflow' backend; without a GPU it runs TF on the CPU.
  const loadedBackend = tf.findBackend(NATIVE_BACKEND) as (tf.KernelBackend & NativeBackendFields) | null;
  if (loadedBackend && candidate === 'node' && loadedBackend.isGPUPackage) {
    if (!(await tf.setBackend(NATIVE_BACKEND))) return fail(`the loaded ${NATIVE_PACKAGES.gpu} backend did not initialise`);
    return { ok: true, detail: `${NATIVE_PACKAGES.gpu} already loaded, running TensorFlow on the CPU`, pkg: NATIVE_PACKAGES.gpu, extra: { nativePackageDir: current?.nativePackageDir } };
  }

  let manifestFile: string;
  try {
    manifestFile = require.resolve(`${pkg}/package.json`, searchPaths ? { paths: searchPaths } : undefined);
  } catch {
    return fail(`${pkg} is not installed (optional dependency; needs a prebuilt TensorFlow binding for ${process.platform}-${process.arch})`);
  }
  let manifest: { name?: string; version?: string };
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    return fail(`${manifestFile}: unreadable package.json (${(err as Error).message})`);
  }
  // Aliases such as danfojs's "@tensorflow/tfjs-node": "npm:@tensorflow/tfjs" install plain tfjs under this name.
  if (manifest.name !== pkg) {
    return fail(`${manifestFile}: the module found as ${pkg} is really ${manifest.name ?? '(no name)'} ${manifest.version ?? ''}`.trimEnd() + ', not the native binding');
  }
  const threads = applyNativeEnvironment(workers);
  let loaded: { node?: unknown } | undefined;
  try {
    loaded = require(path.dirname(manifestFile)) as { node?: unknown } | undefined;
  } catch (err) {
    return fail(`${pkg} ${manifest.version} failed to load: ${firstLine(err)}`);
  }
  const engine = tf.engine() as unknown as { registryFactory: Record<string, unknown> };
  // The registry alone cannot tell: an earlier load (another path) may have registered the backend;
  // the real binding also exports its `node` namespace (tf.node.decodeImage, ...).
  if (!(NATIVE_BACKEND in engine.registryFactory) || typeof loaded?.node !== 'object') {
    return fail(`${pkg} ${manifest.version} (${manifestFile}) loaded but did not register the '${NATIVE_BACKEND}' backend`);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(NATIVE_BACKEND);
  } catch (err) {
    return fail(`${pkg} ${manifest.version}: backend initialisation threw: ${firstLine(err)}`);
  }
  if (!ok) return fail(`${pkg} ${manifest.version}: the '${NATIVE_BACKEND}' backend failed to initialise`);
  const native = tf.backend() as tf.KernelBackend & NativeBackendFields;
  if (candidate === 'gpu' && !native.isUsingGpuDevice) {
    return fail(`${pkg} ${manifest.version} loaded but found no usable GPU (CUDA/cuDNN)`);
  }
  const tensorflow = typeof native.binding?.TF_Version === 'string' ? native.binding.TF_Version : undefined;
  const where = candidate === 'gpu' ? 'on the GPU' : `on the CPU, ${threads.intraOp} intra-op x ${threads.interOp} inter-op thread(s)`;
  return {
    ok: true,
    detail: `${pkg} ${manifest.version}, TensorFlow ${tensorflow ?? '(version unknown)'} ${where}`,
    pkg,
    extra: { tensorflow, threads: threads.intraOp, interOpThreads: threads.interOp, nativePackageDir: path.dirname(manifestFile) },
  };
}

interface NativeBackendFields {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
  binding?: { TF_Version?: unknown };
}

async function tryWasm(registerKernels: boolean | RegisterWasmGradientKernelsArgs): Promise<CandidateResult> {
  const pkg = WASM_PACKAGE;
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = require('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { ok: false, detail: `${pkg} failed to load: ${firstLine(err)}`, pkg };
  }
  // The fast replacements follow the one switch (lib/backend/fast-kernels); explicit options win.
  const fastOff = fastKernelsDisabledReason();
  const fastDefaults: RegisterWasmGradientKernelsArgs = fastOff ? { replaceConv2D: false, replaceConv2DBackpropInput: false, replaceTile: false } : {};
  const extraKernels = registerKernels === false ? [] : registerWasmGradientKernels({ ...fastDefaults, ...(registerKernels === true ? {} : registerKernels) });
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (err) {
    return { ok: false, detail: `${pkg}: initialisation threw: ${firstLine(err)}`, pkg };
  }
  if (!ok) return { ok: false, detail: `${pkg}: the WebAssembly module failed to initialise`, pkg };
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = wasm.getThreadsCount();
  const version = (wasm as unknown as { version_wasm?: string }).version_wasm ?? '';
  return {
    ok: true,
    detail: `${pkg} ${version}, XNNPACK${simd ? ' with SIMD' : ' without SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}` +
      (registerKernels !== false ? `, ${extraKernels.length} own kernels (${fastOff ? `conv gradients only; fast kernels off: ${fastOff}` : 'conv gradients, Tile, indirect-GEMM Conv2D'})` : ', no gradient kernels for conv filters (training conv nets fails)'),
    pkg,
    extra: { simd, threads, extraKernels },
  };
}

async function tryCpu(): Promise<CandidateResult> {
  const ok = await tf.setBackend('cpu');
  if (!ok) return { ok: false, detail: `${CPU_PACKAGE}: failed to initialise`, pkg: CPU_PACKAGE };
  return { ok: true, detail: `${CPU_PACKAGE}, plain JavaScript (slowest)`, pkg: CPU_PACKAGE, extra: { threads: 1 } };
}

/**
 * The cpu backend prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner on its
 * first write. Make that first write here with tfjs's PROD flag (which only silences tfjs's warn
 * and log) set, then restore the flag: later warnings still show.
 */
export function quietCpuBanner(): void {
  let cpu: tf.KernelBackend | null = null;
  try {
    cpu = tf.findBackend('cpu');
  } catch {
    return;
  }
  if (!cpu) return;
  const flags = tf.env();
  const prod = flags.getBool('PROD');
  flags.set('PROD', true);
  try {
    const id = cpu.write(new Float32Array(1), [1], 'float32');
    cpu.disposeData(id);
  } finally {
    flags.set('PROD', prod);
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0];
}
