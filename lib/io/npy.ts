/**
 * NumPy .npy reader and writer for float arrays (format versions 1.0, 2.0 and 3.0).
 *
 * Hand-written on purpose: the one npm package for .npy (npyjs) only parses, reads v1 headers only
 * and does not reject Fortran order, so it would still need the checks below and a writer.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import * as fs from 'fs';
import { nonFiniteCount } from './finite';
import { withAtomicTarget } from '../util/files';

/** A dense C-order float32 array. */
export interface NpyArray {
  data: Float32Array;
  /** Dimensions, outermost first; [] for a scalar. */
  shape: number[];
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Header fields of an .npy file. */
export interface NpyHeader {
  version: [number, number];
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
}

/** Parses the header of an .npy file held in `buf`; `file` only names the file in errors. */
export function parseNpyHeader(buf: Uint8Array, file = '<buffer>'): NpyHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) {
    throw new Error(`${file}: not a NumPy .npy file (missing the \\x93NUMPY magic string)`);
  }
  const major = b[6];
  const minor = b[7];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = b.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (b.length < 12) throw new Error(`${file}: truncated .npy header`);
    headerLen = b.readUInt32LE(8);
    start = 12;
  } else {
    throw new Error(`${file}: unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  if (start + headerLen > b.length) throw new Error(`${file}: truncated .npy header (needs ${headerLen} bytes)`);
  // v3 only differs by allowing utf8 in the header; latin1 is enough for the fields we read.
  const header = b.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1');

  const descrM = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header);
  const fortranM = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descrM) throw new Error(`${file}: .npy header has no 'descr' field (header: ${header.trim()})`);
  if (!fortranM) throw new Error(`${file}: .npy header has no 'fortran_order' field (header: ${header.trim()})`);
  if (!shapeM) throw new Error(`${file}: .npy header has no 'shape' field (header: ${header.trim()})`);
  const shape = shapeM[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new Error(`${file}: .npy header has a bad 'shape' entry '${s}'`);
      return n;
    });
  return { version: [major, minor], descr: descrM[1], fortranOrder: fortranM[1] === 'True', shape, dataOffset: start + headerLen };
}

/**
 * Reads an .npy file as float32. Accepts little-endian float32 ('<f4') and float64 ('<f8', converted);
 * rejects other dtypes, Fortran order and files whose data length does not match the shape.
 */
export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`readNpy: cannot read ${file}: ${(err as Error).message}`);
  }
  return decodeNpy(buf, file);
}

/** Decodes .npy bytes (see readNpy); `file` only names the source in errors. */
export function decodeNpy(buf: Uint8Array, file = '<buffer>'): NpyArray {
  const h = parseNpyHeader(buf, file);
  if (h.fortranOrder) {
    throw new Error(`${file}: Fortran-order arrays are not supported; save a C-order copy (np.ascontiguousarray(x))`);
  }
  const size = h.shape.reduce((a, b) => a * b, 1);
  let itemSize: number;
  if (h.descr === '<f4') itemSize = 4;
  else if (h.descr === '<f8') itemSize = 8;
  else {
    const hint = h.descr.startsWith('>') ? ' (big-endian; save with x.astype("<f4"))' : ' (save with x.astype("float32"))';
    throw new Error(`${file}: unsupported dtype '${h.descr}'; expected little-endian float32 '<f4' or float64 '<f8'${hint}`);
  }
  const available = buf.byteLength - h.dataOffset;
  if (available !== size * itemSize) {
    throw new Error(
      `${file}: data has ${available} bytes but shape (${h.shape.join(', ')}) of '${h.descr}' needs ${size * itemSize}` +
        (available < size * itemSize ? ' (file truncated?)' : ''),
    );
  }
  // Copy the bytes: the data offset need not be aligned for a typed-array view.
  const bytes = new Uint8Array(size * itemSize);
  bytes.set(buf.subarray(h.dataOffset, h.dataOffset + size * itemSize));
  const data = itemSize === 4 ? new Float32Array(bytes.buffer) : Float32Array.from(new Float64Array(bytes.buffer));
  return { data, shape: h.shape };
}

/**
 * Throws, naming the file, when an array holds NaN or Inf values: their count, the first index and
 * its position in the shape (e.g. `[3, 12, 40, 1]`: image 3, row 12, column 40, channel 1 of an NHWC batch).
 */
export function assertFiniteNpy(arr: NpyArray, file: string): void {
  const { data, shape } = arr;
  const { count, first } = nonFiniteCount(data);
  if (count === 0) return;
  const at: number[] = [];
  let rest = first;
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  throw new Error(`${file}: ${count} NaN/Inf value(s) of ${data.length}; the first, at flat index ${first} (position [${at.join(', ')}] of shape [${shape.join(', ')}]), is ${data[first]}`);
}

/**
 * The .npy header (magic, version, dict, padding) of a C-order little-endian float32 array of
 * `shape`: version 1.0, or 2.0 when the header needs it; the data that follows starts on a 64-byte
 * boundary, as NumPy writes it.
 */
export function encodeNpyHeader(shape: number[], what = 'encodeNpyHeader'): Uint8Array {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${what}: shape must be non-negative integers, got [${String(shape)}]`);
  }
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Pad so that the data starts on a 64-byte boundary, as NumPy does; the header ends with '\n'.
  let major = 1;
  let pre = 10;
  if (dict.length + 1 + pre > 65535) {
    major = 2;
    pre = 12;
  }
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  const view = Buffer.from(out.buffer);
  MAGIC.copy(view, 0);
  view[6] = major;
  view[7] = 0;
  if (major === 1) view.writeUInt16LE(dict.length, 8);
  else view.writeUInt32LE(dict.length, 8);
  view.write(dict, pre, 'latin1');
  return out;
}

/** Checks that `arr` is a float32 array whose data fits its shape. */
function checkNpyArray(arr: NpyArray, what: string): void {
  const { data, shape } = arr;
  if (!(data instanceof Float32Array)) throw new Error(`${what}: data must be a Float32Array`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${what}: shape must be non-negative integers, got [${String(shape)}]`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new Error(`${what}: shape [${shape.join(', ')}] holds ${size} values but data has ${data.length}`);
  }
}

/** Encodes a float32 array as .npy bytes (version 1.0, or 2.0 when the header needs it). */
export function encodeNpy(arr: NpyArray, what = 'encodeNpy'): Uint8Array {
  checkNpyArray(arr, what);
  const header = encodeNpyHeader(arr.shape, what);
  const out = new Uint8Array(header.length + arr.data.byteLength);
  out.set(header, 0);
  // Float32Array is little-endian on every platform Node runs on (x86, arm).
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength), header.length);
  return out;
}

/** Writes a float32 array as .npy atomically, header then data straight from `arr` (no copy of large arrays). */
export function writeNpy(file: string, arr: NpyArray): void {
  const what = `writeNpy ${file}`;
  checkNpyArray(arr, what);
  const header = encodeNpyHeader(arr.shape, what);
  withAtomicTarget(file, (tmp) => {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const part of [header, new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength)]) {
        // writeSync may write less than asked (large buffers): loop until all is written.
        for (let off = 0; off < part.byteLength; ) off += fs.writeSync(fd, part, off, part.byteLength - off);
      }
    } finally {
      fs.closeSync(fd);
    }
  });
}
