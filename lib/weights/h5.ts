/**
 * Keras legacy HDF5 weight files (the `.h5` files of Keras Applications): reader and writer.
 *
 * Layout (keras/saving/hdf5_format.py, Keras 2.x; keras/src/legacy/saving/legacy_h5_format.py, Keras 3):
 * root attribute `layer_names` (every layer, split into `layer_names0`, `layer_names1`, ... when it
 * would pass the 64 KiB object-header limit), one group per layer with attribute `weight_names`,
 * datasets at `<layer>/<weight name>` (a '/' in the name makes nested groups). Keras loads by
 * position: the k-th saved layer with weights goes to the k-th model layer with weights.
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { withAtomicTarget } from '../util/files';
import type { Attribute as H5Attribute, Dataset as H5Dataset, File as H5File, Group as H5Group } from 'h5wasm';

type H5Module = typeof import('h5wasm');

let h5Promise: Promise<H5Module> | undefined;

/** h5wasm is ESM-only; a Function-made import() survives compilation to CommonJS. */
export function loadH5wasm(): Promise<H5Module> {
  if (!h5Promise) {
    const dynImport = new Function('m', 'return import(m)') as (m: string) => Promise<H5Module>;
    h5Promise = dynImport('h5wasm/node').then(async (m) => {
      await m.ready;
      return m;
    });
  }
  return h5Promise;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Throws a clear error naming `file` unless it exists, starts like an HDF5 file and is as long as its
 * superblock says (h5wasm's own errors are cryptic, and a truncated file is the common failure).
 */
export function assertHdf5File(file: string, what = 'Keras weights file'): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new Error(`${what} ${file} cannot be opened: ${(err as Error).message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const sig = Buffer.alloc(8);
    // The superblock sits at 0 or after a user block of 512, 1024, 2048, ... bytes.
    for (let off = 0; off + 8 <= size && off <= 1 << 20; off = off === 0 ? 512 : off * 2) {
      fs.readSync(fd, sig, 0, 8, off);
      if (!sig.equals(HDF5_SIGNATURE)) continue;
      const declared = declaredHdf5Size(fd, off);
      if (declared !== undefined && declared > size) {
        throw new Error(`${what} ${file} is truncated: ${size} bytes, but its HDF5 superblock declares ${declared} (an interrupted copy or download?)`);
      }
      return;
    }
    throw new Error(`${what} ${file} is not an HDF5 file (${size} bytes, no HDF5 signature; truncated or wrong download?)`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Base address + end-of-file address of the superblock at `off` (HDF5 file format spec, superblock
 * versions 0-3), or undefined when it cannot be read.
 */
function declaredHdf5Size(fd: number, off: number): number | undefined {
  const head = Buffer.alloc(64);
  const n = fs.readSync(fd, head, 0, head.length, off);
  const version = head[8];
  const sizeOfOffsets = version <= 1 ? head[13] : head[9];
  if (sizeOfOffsets !== 8 && sizeOfOffsets !== 4) return undefined;
  // Versions 0/1: 24 (28) bytes of fixed fields, then base, free-space (extension), EOF addresses;
  // versions 2/3: 12 bytes, then base, extension, EOF addresses.
  const first = version === 0 ? 24 : version === 1 ? 28 : version <= 3 ? 12 : -1;
  if (first < 0 || first + 3 * sizeOfOffsets > n) return undefined;
  const read = (at: number): number | undefined => {
    const v = sizeOfOffsets === 8 ? head.readBigUInt64LE(at) : BigInt(head.readUInt32LE(at));
    const undef = sizeOfOffsets === 8 ? 0xffffffffffffffffn : 0xffffffffn;
    return v === undef || v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
  };
  const base = read(first);
  const eof = read(first + 2 * sizeOfOffsets);
  return base === undefined || eof === undefined ? undefined : base + eof;
}

/** The mutable CommonJS `fs` object (the one h5wasm's `import fs from 'fs'` sees; a namespace import is read-only). */
function nodeFs(): { writeSync: (...a: unknown[]) => number } {
  return createRequire(__filename)('fs');
}

/**
 * Runs synchronous h5wasm calls with the HDF5 library's diagnostic dump (HDF5-DIAG, ~40 lines per
 * failure, printed through stderr by the wasm module) captured instead of printed. An error thrown
 * by `fn` comes back as one line naming `file` and HDF5's own innermost reason.
 */
export function withQuietHdf5<T>(file: string, fn: () => T, action: 'read' | 'written' = 'read'): T {
  // h5wasm's Node build writes to fd 2 with fs.writeSync (NODERAWFS); console output is caught too.
  const mutableFs = nodeFs();
  const stream = process.stderr as unknown as { write: (...a: unknown[]) => boolean };
  const originalWriteSync = mutableFs.writeSync;
  const originalWrite = stream.write;
  let diag = '';
  const text = (chunk: unknown, offset?: unknown, length?: unknown): string => {
    if (typeof chunk === 'string') return chunk;
    const bytes = chunk as Uint8Array;
    const start = typeof offset === 'number' ? offset : 0;
    const end = typeof length === 'number' ? start + length : bytes.length;
    return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
  };
  mutableFs.writeSync = (fd: unknown, chunk: unknown, offset?: unknown, length?: unknown, ...rest: unknown[]): number => {
    if (fd !== 2) return originalWriteSync.call(mutableFs, fd, chunk, offset, length, ...rest);
    const t = text(chunk, offset, length);
    diag += t;
    return typeof chunk === 'string' ? Buffer.byteLength(t) : typeof length === 'number' ? length : (chunk as Uint8Array).length;
  };
  stream.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    diag += text(chunk);
    (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
    return true;
  };
  try {
    return fn();
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    // Our own errors already name the file; h5wasm's ("name not defined!") do not.
    if (!diag && message.includes(file)) throw err;
    throw new Error(`HDF5 file ${file} cannot be ${action}: ${hdf5Reason(diag) ?? message}`);
  } finally {
    mutableFs.writeSync = originalWriteSync;
    stream.write = originalWrite;
  }
}

/** The innermost entry of the first HDF5-DIAG stack: its minor message and description. */
export function hdf5Reason(diag: string): string | undefined {
  const first = diag.split(/HDF5-DIAG:/)[1];
  if (!first) return undefined;
  const entries = [...first.matchAll(/#\d+: .*? in [\w]+\(\): (.*)\n\s*major: (.*)\n\s*minor: (.*)/g)];
  const last = entries[entries.length - 1];
  if (!last) return undefined;
  return `${last[3].trim()} (${last[1].trim()})`;
}

/** Reads a string-list attribute, joining Keras's chunks `name0`, `name1`, ... when the attribute was split. */
export function readStringListAttr(obj: H5Group, name: string): string[] | undefined {
  const attrs = obj.attrs;
  const toList = (a: H5Attribute): string[] => {
    const v = a.value;
    if (v === null || v === undefined) return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) return v.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)));
    // Keras 2 saves an empty weight list as an empty float array.
    if (ArrayBuffer.isView(v) && (v as ArrayLike<unknown>).length === 0) return [];
    throw new Error(`attribute '${name}' of '${obj.path}' is not a list of strings`);
  };
  if (name in attrs) return toList(attrs[name]);
  if (`${name}0` in attrs) {
    const out: string[] = [];
    for (let k = 0; `${name}${k}` in attrs; k++) out.push(...toList(attrs[`${name}${k}`]));
    return out;
  }
  return undefined;
}

/** One weight array as stored in the file. */
export interface H5Weight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** One layer group of a Keras weights file. */
export interface H5Layer {
  name: string;
  weights: H5Weight[];
}

/** Root attributes and layers of a Keras weights file. */
export interface KerasH5Contents {
  file: string;
  /** Every layer name of the root attribute `layer_names`, weightless layers included. */
  layerNames: string[];
  /** Layers with at least one weight, in file order. */
  layers: H5Layer[];
  kerasVersion?: string;
  backend?: string;
}

function attrString(obj: H5Group, name: string): string | undefined {
  const a = obj.attrs[name];
  if (!a) return undefined;
  const v = a.value;
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
}

function datasetToFloat32(ds: H5Dataset, where: string): { shape: number[]; data: Float32Array } {
  const shape = ds.shape ?? [];
  const dtype = ds.dtype;
  const v = ds.value;
  let data: Float32Array;
  if (v instanceof Float32Array) data = v;
  else if (v instanceof Float64Array) data = Float32Array.from(v);
  else if (typeof v === 'number') data = new Float32Array([v]);
  else throw new Error(`${where}: unsupported dtype ${JSON.stringify(dtype)} (expected float32 or float64)`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`${where}: dataset holds ${data.length} values but its shape [${shape.join(', ')}] needs ${size}`);
  return { shape, data };
}

/**
 * Reads every layer's weights from a Keras legacy HDF5 weights file (or a full-model .h5, whose
 * weights sit under `model_weights`). `onlyShapes` skips reading the arrays (data left empty).
 */
export async function readKerasH5(file: string, opts: { onlyShapes?: boolean } = {}): Promise<KerasH5Contents> {
  assertHdf5File(file);
  const h5 = await loadH5wasm();
  return withQuietHdf5(file, () => readOpenedKerasH5(h5, new h5.File(file, 'r'), file, opts));
}

/** readKerasH5's synchronous part: everything h5wasm does, so that withQuietHdf5 sees all of it. */
function readOpenedKerasH5(h5: H5Module, f: H5File, file: string, opts: { onlyShapes?: boolean }): KerasH5Contents {
  try {
    let root: H5Group = f;
    let layerNames = readStringListAttr(root, 'layer_names');
    if (layerNames === undefined) {
      const mw = f.get('model_weights');
      if (mw && mw instanceof h5.Group) {
        root = mw;
        layerNames = readStringListAttr(root, 'layer_names');
      }
    }
    if (layerNames === undefined) {
      const k3 = f.get('layers') instanceof h5.Group || file.endsWith('.weights.h5');
      throw new Error(
        `Keras weights file ${file} has no root attribute 'layer_names' (nor layer_names0..k, nor model_weights/): not a Keras legacy HDF5 weights file` +
          (k3 ? "; it looks like Keras 3's .weights.h5 format: save with legacy_h5_format.save_weights_to_hdf5_group (see docs/keras-parity.md) or as 'NAME.h5'" : ''),
      );
    }
    const layers: H5Layer[] = [];
    for (const lname of layerNames) {
      const g = root.get(lname);
      if (!g || !(g instanceof h5.Group)) {
        throw new Error(`Keras weights file ${file}: layer '${lname}' is listed in layer_names but has no group`);
      }
      const weightNames = readStringListAttr(g, 'weight_names');
      if (weightNames === undefined) {
        throw new Error(`Keras weights file ${file}: layer group '${lname}' has no attribute 'weight_names'`);
      }
      if (weightNames.length === 0) continue;
      const weights: H5Weight[] = weightNames.map((wname) => {
        const where = `Keras weights file ${file}: layer '${lname}' weight '${wname}'`;
        const ds = g.get(wname);
        if (!ds || !(ds instanceof h5.Dataset)) throw new Error(`${where}: no dataset at '${lname}/${wname}'`);
        if (opts.onlyShapes) return { name: wname, shape: ds.shape ?? [], data: new Float32Array(0) };
        return { name: wname, ...datasetToFloat32(ds, where) };
      });
      layers.push({ name: lname, weights });
    }
    return {
      file,
      layerNames,
      layers,
      kerasVersion: attrString(root, 'keras_version'),
      backend: attrString(root, 'backend'),
    };
  } finally {
    f.close();
  }
}

/** What loadKerasH5Weights did. */
export interface LoadReport {
  file: string;
  /** Number of layers whose weights were set. */
  layers: number;
  /** Number of weight arrays set. */
  weights: number;
  /** Number of scalar values set. */
  values: number;
  kerasVersion?: string;
  backend?: string;
  /** Pairs (file layer, model layer) whose names differ: harmless for a positional load, but worth knowing. */
  renamed: Array<{ file: string; model: string }>;
}

const fmtShape = (s: readonly (number | null)[]): string => `[${s.join(', ')}]`;

/** The layers of `model` that have weights, in the order Keras matches them (the model's layer order). */
function layersWithWeights(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.weights.length > 0);
}

/**
 * Loads Keras legacy HDF5 weights into a built model, by position as Keras does. Every shape is
 * checked before any weight is set, so a bad file leaves the model unchanged.
 */
export async function loadKerasH5Weights(model: tf.LayersModel, file: string): Promise<LoadReport> {
  const contents = await readKerasH5(file);
  const fileLayers = contents.layers;
  const modelLayers = layersWithWeights(model);
  if (fileLayers.length !== modelLayers.length) {
    let hint = '';
    const n = Math.min(fileLayers.length, modelLayers.length);
    for (let i = 0; i < n; i++) {
      if (fileLayers[i].name !== modelLayers[i].name) {
        hint = `; the names first differ at position ${i}: file '${fileLayers[i].name}' vs model '${modelLayers[i].name}'`;
        break;
      }
    }
    if (!hint && fileLayers.length > n) hint = `; file layers from position ${n} on are extra, first '${fileLayers[n].name}'`;
    if (!hint && modelLayers.length > n) hint = `; model layers from position ${n} on are missing in the file, first '${modelLayers[n].name}'`;
    throw new Error(
      `Layer count mismatch loading ${file} into model '${model.name}': the file has ${fileLayers.length} layers with weights, the model has ${modelLayers.length}${hint}`,
    );
  }
  const renamed: LoadReport['renamed'] = [];
  let nWeights = 0;
  let nValues = 0;
  for (let i = 0; i < fileLayers.length; i++) {
    const fl = fileLayers[i];
    const ml = modelLayers[i];
    const mw = ml.weights;
    const where = `loading ${file}: file layer '${fl.name}' -> model layer '${ml.name}' (${ml.getClassName()}, layer #${i} with weights)`;
    if (fl.weights.length !== mw.length) {
      throw new Error(
        `Weight count mismatch ${where}: the file has ${fl.weights.length} weights (${fl.weights.map((w) => w.name).join(', ')}), the model layer has ${mw.length} (${mw.map((w) => w.originalName).join(', ')})`,
      );
    }
    for (let j = 0; j < mw.length; j++) {
      const expected = mw[j].shape;
      const found = fl.weights[j].shape;
      if (expected.length !== found.length || expected.some((d, k) => d !== found[k])) {
        throw new Error(
          `Weight shape mismatch ${where}, weight #${j}: model weight '${mw[j].originalName}' expects ${fmtShape(expected)}, file weight '${fl.weights[j].name}' has ${fmtShape(found)}`,
        );
      }
      nWeights++;
      nValues += fl.weights[j].data.length;
    }
    if (fl.name !== ml.name) renamed.push({ file: fl.name, model: ml.name });
  }
  // All checked: now set, one layer at a time to keep peak memory low.
  for (let i = 0; i < fileLayers.length; i++) {
    const tensors = fileLayers[i].weights.map((w) => tf.tensor(w.data, w.shape, 'float32'));
    try {
      modelLayers[i].setWeights(tensors);
    } finally {
      tensors.forEach((t) => t.dispose());
    }
  }
  return {
    file,
    layers: fileLayers.length,
    weights: nWeights,
    values: nValues,
    kerasVersion: contents.kerasVersion,
    backend: contents.backend,
    renamed,
  };
}

/** Naming of the weights in a written file. */
export type KerasH5Style =
  /** tf.keras 2.x: variable names with ':0', e.g. 'conv1/conv/kernel:0'. */
  | 'keras2'
  /** Keras 3 legacy h5: variable paths without ':0', e.g. 'conv1/conv/kernel'. */
  | 'keras3'
  /** Keras 1 (old VGG files): '<layer>_W_1:0', '<layer>_b_1:0', BN running_mean/running_std. */
  | 'keras1';

/** Options of saveKerasH5Weights / writeKerasH5. */
export interface SaveKerasH5Options {
  /** Weight naming. Default 'keras2'. */
  style?: KerasH5Style;
  /** Root attribute keras_version. Default '2.7.0' ('3.0.0' for style keras3, '1.2.2' for keras1). */
  kerasVersion?: string;
  /** Root attribute backend. Default 'tensorflow'. */
  backend?: string;
  /**
   * Largest size in bytes of one string-list attribute before it is split into name0, name1, ...
   * Default 64512 (Keras's HDF5_OBJECT_HEADER_LIMIT). Tests lower it to force a split.
   */
  maxAttrBytes?: number;
}

const KERAS1_NAMES: Record<string, string> = {
  kernel: 'W',
  bias: 'b',
  depthwise_kernel: 'depthwise_kernel',
  pointwise_kernel: 'pointwise_kernel',
  gamma: 'gamma',
  beta: 'beta',
  moving_mean: 'running_mean',
  moving_variance: 'running_std',
};

/** Writes a string list as fixed-length byte strings (as h5py writes numpy 'S' arrays), split like Keras. */
function writeStringListAttr(obj: H5Group, name: string, values: string[], maxBytes: number): void {
  if (values.length === 0) {
    // Keras 2 writes an empty list as an empty float array; readers accept both.
    obj.create_attribute(name, new Float64Array(0), [0]);
    return;
  }
  const width = Math.max(1, ...values.map((v) => Buffer.byteLength(v, 'utf8')));
  let chunks = 1;
  while (Math.ceil(values.length / chunks) * width > maxBytes) {
    chunks++;
    if (chunks > values.length) throw new Error(`attribute '${name}': a single entry of ${width} bytes exceeds ${maxBytes} bytes`);
  }
  if (chunks === 1) {
    obj.create_attribute(name, values, [values.length], `S${width}`);
    return;
  }
  // np.array_split: the first (len % chunks) chunks get one extra entry.
  const base = Math.floor(values.length / chunks);
  const extra = values.length % chunks;
  let at = 0;
  for (let k = 0; k < chunks; k++) {
    const n = base + (k < extra ? 1 : 0);
    const part = values.slice(at, at + n);
    at += n;
    obj.create_attribute(`${name}${k}`, part, [part.length], `S${width}`);
  }
}

/**
 * Writes layers in Keras's legacy HDF5 layout, atomically (temporary file, then rename). Low-level:
 * saveKerasH5Weights builds `layers` from a model; tests use this to write any layout they need.
 */
export async function writeKerasH5(file: string, layers: H5Layer[], opts: SaveKerasH5Options = {}): Promise<void> {
  const style = opts.style ?? 'keras2';
  const maxBytes = opts.maxAttrBytes ?? 64512;
  const h5 = await loadH5wasm();
  await withAtomicTarget(path.resolve(file), (tmp) => withQuietHdf5(file, () => writeOpenedKerasH5(h5, new h5.File(tmp, 'w'), file, layers, style, maxBytes, opts), 'written'));
}

/** writeKerasH5's synchronous part (see withQuietHdf5). */
function writeOpenedKerasH5(h5: H5Module, f: H5File, file: string, layers: H5Layer[], style: KerasH5Style, maxBytes: number, opts: SaveKerasH5Options): void {
  try {
    writeStringListAttr(f, 'layer_names', layers.map((l) => l.name), maxBytes);
    f.create_attribute('backend', opts.backend ?? 'tensorflow');
    f.create_attribute('keras_version', opts.kerasVersion ?? (style === 'keras3' ? '3.0.0' : style === 'keras1' ? '1.2.2' : '2.7.0'));
    const seen = new Set<string>();
    for (const layer of layers) {
      if (seen.has(layer.name)) throw new Error(`writeKerasH5 ${file}: duplicate layer name '${layer.name}'`);
      seen.add(layer.name);
      const g = ensureGroup(h5, f, layer.name);
      writeStringListAttr(g, 'weight_names', layer.weights.map((w) => w.name), maxBytes);
      for (const w of layer.weights) {
        const size = w.shape.reduce((a, b) => a * b, 1);
        if (size !== w.data.length) {
          throw new Error(`writeKerasH5 ${file}: layer '${layer.name}' weight '${w.name}' has ${w.data.length} values for shape ${fmtShape(w.shape)}`);
        }
        const slash = w.name.lastIndexOf('/');
        const parent = slash < 0 ? g : ensureGroup(h5, g, w.name.slice(0, slash));
        const leaf = w.name.slice(slash + 1);
        if (parent.get(leaf)) throw new Error(`writeKerasH5 ${file}: layer '${layer.name}' has two weights named '${w.name}'`);
        parent.create_dataset({ name: leaf, data: w.data, shape: w.shape, dtype: '<f' });
      }
    }
  } catch (err) {
    try {
      f.close();
    } catch {
      /* already failing */
    }
    throw err;
  }
  f.close();
}

/** Opens or creates the group at `rel` below `root`; h5wasm does not make intermediate groups as h5py does. */
function ensureGroup(h5: H5Module, root: H5Group, rel: string): H5Group {
  let g = root;
  for (const p of rel.split('/').filter((s) => s.length > 0)) {
    const existing = g.get(p);
    if (existing && !(existing instanceof h5.Group)) throw new Error(`'${g.path}/${p}' exists and is not a group`);
    g = existing instanceof h5.Group ? existing : g.create_group(p);
  }
  return g;
}

/** The name a weight gets in a file of the given style. */
function kerasWeightName(layer: tf.layers.Layer, originalName: string, style: KerasH5Style): string {
  if (style === 'keras3') return originalName;
  if (style === 'keras2') return `${originalName}:0`;
  const short = originalName.slice(originalName.lastIndexOf('/') + 1);
  return `${layer.name}_${KERAS1_NAMES[short] ?? short}_1:0`;
}

/**
 * Saves a model's weights as a Keras legacy HDF5 weights file that Keras's `model.load_weights`
 * (and loadKerasH5Weights) reads: every layer in model.layers order, weightless ones included.
 */
export async function saveKerasH5Weights(model: tf.LayersModel, file: string, opts: SaveKerasH5Options = {}): Promise<void> {
  const style = opts.style ?? 'keras2';
  const layers: H5Layer[] = model.layers.map((layer) => ({
    name: layer.name,
    weights: layer.weights.map((w) => {
      const t = w.read();
      return { name: kerasWeightName(layer, w.originalName, style), shape: w.shape.map((d) => d as number), data: t.dataSync() as Float32Array };
    }),
  }));
  await writeKerasH5(file, layers, opts);
}
