/**
 * Convolution for the wasm backend as an indirect GEMM (lib/backend/wasm/conv.wat). For the dense
 * convolutions of the backbones here it runs at about 1.5x the throughput of tfjs-wasm's XNNPACK
 * convolution (measured on one core: 40-50 against 23-30 GFLOP/s for ResNet50's 1x1 and 3x3
 * layers at 80 x 80), and much faster where XNNPACK re-packs changing weights on every call (the
 * forward and backward convolutions of training).
 *
 * The kernel module imports the tfjs wasm backend's own memory and reads and writes tensors where
 * they are: no copies, and tfjs keeps track of every buffer. Each output pixel's taps are found
 * through an indirection table of input offsets (-1 where the tap falls in the padding, which
 * reads a row of zeros), so no im2col buffer is built. Sums run in the same order and with the
 * same two roundings (multiply, then add) as XNNPACK's wasm SIMD kernels.
 *
 * Two ways in:
 * - {@link IgemmConv2D}: weights packed once, for inference with fixed weights (lib/accel);
 * - {@link igemmConvKernelConfigs}: wasm's Conv2D and FusedConv2D kernels, reading tfjs's filter
 *   layout directly where the output channels are a multiple of 8 (otherwise, and for activations
 *   other than linear/relu/relu6, the original kernel runs).
 */
import * as tf from '@tensorflow/tfjs';
import { fastKernelVariant, kernelBytes } from './fast-kernels';

const WASM = 'wasm';
const PACKED_KERNEL = 'PetIqaIgemmConv2D';
/** Input rows per block: a block's rows are read by every panel of weights, so keep it in L2. */
const BLOCK_BYTES = 256 * 1024;
/** Indirection tables kept (by convolution geometry), least recently used dropped first. */
const TABLE_CACHE_BYTES = 64 * 1024 * 1024;

interface ConvExports {
  igemm(
    M: number, N: number, cin: number, ks: number, indir: number, inBase: number, zero: number,
    w: number, wPanel: number, wRow: number, bias: number, out: number, ldc: number, mc: number, lo: number, hi: number,
  ): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike extends tf.KernelBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory }; HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Fused clamp of the kernel. */
export type IgemmActivation = 'linear' | 'relu' | 'relu6';

const compiled = new Map<string, WebAssembly.Module>();
const compileErrors = new Map<string, string>();
/** Instances per backend memory and kernel build. */
const instances = new WeakMap<WebAssembly.Memory, Map<string, ConvExports>>();

/** The build lib/backend/fast-kernels chooses: relaxed SIMD where the engine has it. */
function kernelVariant(): 'simd' | 'relaxed' {
  return fastKernelVariant() === 'relaxed' ? 'relaxed' : 'simd';
}

function kernelModule(variant: 'simd' | 'relaxed'): WebAssembly.Module {
  const done = compiled.get(variant);
  if (done) return done;
  const failed = compileErrors.get(variant);
  if (failed) throw new Error(failed);
  try {
    const mod = new WebAssembly.Module(kernelBytes('conv', variant));
    compiled.set(variant, mod);
    return mod;
  } catch (e) {
    const msg = `igemm: the WebAssembly ${variant === 'relaxed' ? 'relaxed-' : ''}SIMD convolution kernel does not compile here (${(e as Error).message})`;
    compileErrors.set(variant, msg);
    throw new Error(msg);
  }
}

function exportsFor(backend: tf.KernelBackend): ConvExports {
  const mem = (backend as Partial<WasmBackendLike>).wasm?.asm?.memory;
  if (!(mem instanceof WebAssembly.Memory)) throw new Error('igemm: the backend is not tfjs-backend-wasm (no wasm memory to share)');
  const variant = kernelVariant();
  let byVariant = instances.get(mem);
  if (!byVariant) instances.set(mem, (byVariant = new Map()));
  let ex = byVariant.get(variant);
  if (!ex) {
    ex = new WebAssembly.Instance(kernelModule(variant), { env: { memory: mem } }).exports as unknown as ConvExports;
    byVariant.set(variant, ex);
  }
  return ex;
}

/**
 * Why the indirect-GEMM convolution cannot run on the current backend, or null when it can
 * (the backend is wasm, its memory is reachable and the kernel compiles).
 */
export function igemmUnavailableReason(): string | null {
  if (tf.getBackend() !== WASM) return `the backend is ${tf.getBackend()}, not wasm`;
  try {
    exportsFor(tf.backend());
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const tables = new Map<string, Int32Array>();
let tableBytes = 0;
const calls = { packed: 0, unpacked: 0 };

/** How many convolutions the kernel has run in this thread, by weight layout (for logs and tests). */
export function igemmCallCounts(): { packed: number; unpacked: number } {
  return { ...calls };
}

/** Byte offset of each (output pixel, tap) input row of a convolution, -1 in the padding. */
export function indirectionTable(info: tf.backend_util.Conv2DInfo): Int32Array {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const key = [B, H, W, C, Ho, Wo, kh, kw, sh, sw, dh, dw, top, left].join(',');
  const hit = tables.get(key);
  if (hit) {
    // Most recently used last.
    tables.delete(key);
    tables.set(key, hit);
    return hit;
  }
  if (B * H * W * C * 4 > 0x7fffffff) throw new Error(`igemm: input [${B}, ${H}, ${W}, ${C}] is too large for 32-bit offsets`);
  const ind = new Int32Array(B * Ho * Wo * kh * kw);
  let i = 0;
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - top + ky * dh;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - left + kx * dw;
            ind[i++] = iy < 0 || iy >= H || ix < 0 || ix >= W ? -1 : ((b * H + iy) * W + ix) * C * 4;
          }
        }
      }
    }
  }
  while (tables.size > 0 && tableBytes + ind.byteLength > TABLE_CACHE_BYTES) {
    const [oldest, old] = tables.entries().next().value as [string, Int32Array];
    tables.delete(oldest);
    tableBytes -= old.byteLength;
  }
  tables.set(key, ind);
  tableBytes += ind.byteLength;
  return ind;
}

const align64 = (byteOffset: number) => Math.ceil(byteOffset / 64) * 64;

function clampOf(activation: IgemmActivation): { low: number; high: number } {
  return { low: activation === 'linear' ? -Infinity : 0, high: activation === 'relu6' ? 6 : Infinity };
}

/**
 * Runs the kernel: x and the weights are tensors of this backend; `packed` says how the weights
 * are laid out (see conv.wat). Returns a new output tensor info of shape info.outShape.
 */
function runIgemm(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  weights: tf.TensorInfo,
  bias: tf.TensorInfo | null,
  info: tf.backend_util.Conv2DInfo,
  packed: boolean,
  activation: IgemmActivation,
  /** Packed weights: bytes from the tensor's start to the 64-byte aligned data. */
  weightShift = 0,
): tf.TensorInfo {
  const ex = exportsFor(backend);
  calls[packed ? 'packed' : 'unpacked']++;
  const out = backend.makeOutput(info.outShape, 'float32');
  const M = info.batchSize * info.outHeight * info.outWidth;
  const N = info.outChannels;
  if (M === 0 || N === 0) return out;
  const cin = info.inChannels;
  const ks = info.filterHeight * info.filterWidth;
  const table = indirectionTable(info);
  const at = (t: tf.TensorInfo) => {
    const d = backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('igemm: a tensor is not in the wasm backend');
    return d.memoryOffset;
  };
  // Scratch in the backend's heap: the indirection table, and zeros for padding taps and a missing bias.
  const panels = Math.ceil(N / 8);
  // tfjs's heap hands out 8-byte aligned buffers; 16-byte loads of weights that straddle cache
  // lines cost up to a fifth of the throughput, so unaligned tfjs-layout weights are copied.
  const weightsAt = at(weights) + weightShift;
  const copyWeights = !packed && weightsAt % 16 !== 0;
  const weightFloats = ks * cin * N;
  const scratch: tf.TensorInfo[] = [];
  try {
    const scratchTable = backend.makeOutput([table.length], 'int32');
    scratch.push(scratchTable);
    const zeroCount = Math.max(cin, panels * 8);
    const scratchZeros = backend.makeOutput([zeroCount], 'float32');
    scratch.push(scratchZeros);
    const scratchWeights = copyWeights ? backend.makeOutput([weightFloats + 16], 'float32') : null;
    if (scratchWeights) scratch.push(scratchWeights);
    const heap = backend.wasm.HEAPU8;
    const tableAt = at(scratchTable);
    const zerosAt = at(scratchZeros);
    new Int32Array(heap.buffer, tableAt, table.length).set(table);
    new Float32Array(heap.buffer, zerosAt, zeroCount).fill(0);
    let w = weightsAt;
    if (scratchWeights) {
      w = align64(at(scratchWeights));
      heap.copyWithin(w, weightsAt, weightsAt + weightFloats * 4);
    }
    const { low, high } = clampOf(activation);
    const wPanel = packed ? ks * cin * 32 : 32;
    const wRow = packed ? 32 : N * 4;
    const rowsPerBlock = Math.max(4, Math.floor(BLOCK_BYTES / (ks * cin * 4)) & ~3);
    ex.igemm(M, N, cin, ks, tableAt, at(x), zerosAt, w, wPanel, wRow, bias ? at(bias) : zerosAt, at(out), N, rowsPerBlock, low, high);
  } finally {
    for (const t of scratch) backend.disposeData(t.dataId);
  }
  return out;
}

interface PackedAttrs {
  filterShape: [number, number, number, number];
  /** Bytes from the weights tensor's start to its 64-byte aligned data. */
  weightShift: number;
  strides: [number, number];
  pad: tf.Conv2DAttrs['pad'];
  activation: IgemmActivation;
}

function packedKernel(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, weights, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const a = args.attrs as unknown as PackedAttrs;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad);
  return runIgemm(args.backend as WasmBackendLike, x, weights, bias, info, true, a.activation, a.weightShift);
}

let packedRegistered = false;
function ensurePackedKernel(): void {
  if (packedRegistered) return;
  if (!tf.getKernel(PACKED_KERNEL, WASM)) tf.registerKernel({ kernelName: PACKED_KERNEL, backendName: WASM, kernelFunc: packedKernel as unknown as tf.KernelFunc });
  packedRegistered = true;
}

/** Arguments of {@link IgemmConv2D}. */
export interface IgemmConv2DArgs {
  /** Kernel values, layout [kh, kw, inChannels, outChannels] (tfjs/Keras Conv2D). */
  filter: Float32Array;
  filterShape: [number, number, number, number];
  /** Per-output-channel bias, or null for none. */
  bias?: Float32Array | null;
  /** Strides [h, w]. Default [1, 1]. */
  strides?: [number, number];
  /** tf.conv2d padding: 'same', 'valid' or explicit NHWC pairs. Default 'valid'. */
  pad?: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  /** Clamp fused after the bias. Default 'linear'. */
  activation?: IgemmActivation;
}

/** A Conv2D with weights packed once, run by the indirect-GEMM kernel on the wasm backend. */
export class IgemmConv2D {
  readonly filterShape: [number, number, number, number];
  private readonly attrs: PackedAttrs;
  private readonly weights: tf.Tensor1D;
  private readonly bias: tf.Tensor1D;

  constructor(args: IgemmConv2DArgs) {
    const reason = igemmUnavailableReason();
    if (reason) throw new Error(`IgemmConv2D: ${reason}`);
    ensurePackedKernel();
    const [kh, kw, cin, cout] = args.filterShape;
    if (args.filter.length !== kh * kw * cin * cout) {
      throw new Error(`IgemmConv2D: filter has ${args.filter.length} values, shape [${args.filterShape}] needs ${kh * kw * cin * cout}`);
    }
    if (args.bias && args.bias.length !== cout) throw new Error(`IgemmConv2D: bias has ${args.bias.length} values for ${cout} output channels`);
    this.filterShape = [kh, kw, cin, cout];
    const attrs = { filterShape: this.filterShape, strides: args.strides ?? [1, 1], pad: args.pad ?? 'valid', activation: args.activation ?? 'linear' };
    const ks = kh * kw;
    const panels = Math.ceil(cout / 8);
    // Panel p, tap t, channel c: the 8 output channels 8p..8p+7 (zero past cout).
    const packed = new Float32Array(panels * ks * cin * 8);
    const f = args.filter;
    for (let p = 0; p < panels; p++) {
      const width = Math.min(8, cout - 8 * p);
      for (let t = 0; t < ks; t++) {
        for (let c = 0; c < cin; c++) {
          const dst = ((p * ks + t) * cin + c) * 8;
          const src = (t * cin + c) * cout + 8 * p;
          for (let j = 0; j < width; j++) packed[dst + j] = f[src + j];
        }
      }
    }
    const b = new Float32Array(panels * 8);
    if (args.bias) b.set(args.bias);
    // Kept: a constructor called inside tf.tidy must not lose them.
    this.bias = tf.keep(tf.tensor1d(b));
    // The packed weights start at a 64-byte boundary inside a slightly larger buffer (tfjs's heap
    // aligns to 8 bytes only); wasm tensors never move, so the shift stays valid.
    this.weights = tf.keep(tf.zeros([packed.length + 16]));
    const backend = tf.backend() as WasmBackendLike;
    const start = backend.dataIdMap.get(this.weights.dataId)!.memoryOffset;
    const weightShift = align64(start) - start;
    new Float32Array(backend.wasm.HEAPU8.buffer, start + weightShift, packed.length).set(packed);
    this.attrs = { ...attrs, weightShift };
  }

  /** The convolution of x (NHWC, float32) with the fused bias and clamp. The caller owns the result. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const cin = this.filterShape[2];
    if (x.rank !== 4 || x.shape[3] !== cin) throw new Error(`IgemmConv2D: input shape [${x.shape}] does not end in ${cin} channels`);
    if (x.dtype !== 'float32') throw new Error(`IgemmConv2D: input dtype ${x.dtype}, expected float32`);
    return tf.engine().runKernel(PACKED_KERNEL, { x, weights: this.weights, bias: this.bias }, this.attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }

  /** Releases the packed weights. */
  dispose(): void {
    this.weights.dispose();
    this.bias.dispose();
  }
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

/** When the unpacked kernel applies to a Conv2D/FusedConv2D call: its geometry, else null. */
function unpackedGeometry(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): tf.backend_util.Conv2DInfo | null {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || attrs.dataFormat !== 'NHWC') return null;
  if (x.shape.length !== 4 || filter.shape.length !== 4) return null;
  // tfjs's filter layout read directly: whole panels of 8 output channels.
  if (filter.shape[3] % 8 !== 0) return null;
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode,
  );
}

/**
 * Kernel configs replacing wasm's Conv2D and FusedConv2D: the indirect GEMM where it applies
 * (float32 NHWC, output channels a multiple of 8, no activation or relu/relu6, a rank-1 bias),
 * the original kernel otherwise. Pass the original configs (their setupFunc is kept).
 */
export function igemmConvKernelConfigs(originalConv2D: tf.KernelConfig, originalFused: tf.KernelConfig): tf.KernelConfig[] {
  const usable = new WeakMap<tf.KernelBackend, boolean>();
  const canRun = (backend: tf.KernelBackend): boolean => {
    let ok = usable.get(backend);
    if (ok === undefined) {
      try {
        exportsFor(backend);
        ok = true;
      } catch {
        ok = false;
      }
      usable.set(backend, ok);
    }
    return ok;
  };
  const conv2D = (args: KernelArgs) => {
    const { x, filter } = args.inputs as Record<string, tf.TensorInfo>;
    const info = canRun(args.backend) ? unpackedGeometry(x, filter, args.attrs as unknown as tf.Conv2DAttrs) : null;
    if (!info) return originalConv2D.kernelFunc(args);
    return runIgemm(args.backend as WasmBackendLike, x, filter, null, info, false, 'linear');
  };
  const fused = (args: KernelArgs) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
    const act = attrs.activation;
    const plainAct = act === 'linear' || act === 'relu' || act === 'relu6';
    const info = plainAct && !preluActivationWeights && canRun(args.backend) && (!bias || (bias.shape.length === 1 && bias.dtype === 'float32')) ? unpackedGeometry(x!, filter!, attrs) : null;
    if (!info || (bias && bias.shape[0] !== info.outChannels)) return originalFused.kernelFunc(args);
    return runIgemm(args.backend as WasmBackendLike, x!, filter!, bias ?? null, info, false, act as IgemmActivation);
  };
  return [
    { kernelName: 'Conv2D', backendName: WASM, setupFunc: originalConv2D.setupFunc, kernelFunc: conv2D as unknown as tf.KernelFunc },
    { kernelName: 'FusedConv2D', backendName: WASM, setupFunc: originalFused.setupFunc, kernelFunc: fused as unknown as tf.KernelFunc },
  ];
}
