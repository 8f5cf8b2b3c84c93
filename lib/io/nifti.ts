/**
 * NIfTI-1/NIfTI-2 volume I/O.
 *
 * Reading parses the header with nifti-reader-js and does the rest here, because the
 * library's affine prefers the qform over the sform (the NIfTI standard and nibabel prefer the
 * sform), derives quatern_a without clamping, and has no voxel conversion or error reporting.
 * Writing produces NIfTI-1 float32 (.nii, or .nii.gz with a gzip header that carries no
 * timestamp, so equal volumes give equal bytes).
 *
 * Intensity units have no standard NIfTI field. This module records them as `units=<u>` at
 * the start of `descrip` (for example `units=Bq/ml; OSEM 2i21s`) and, when they fit in 16 bytes,
 * also in `intent_name` with intent_code 0. On reading, `units=` in `descrip` wins; otherwise a
 * non-empty `intent_name` with intent_code 0 is taken as the units.
 */
import * as crypto from 'crypto';
import { nonFiniteCount } from './finite';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import type * as NiftiReaderTypes from 'nifti-reader-js';
import type { Volume } from '../types';
import { digest, writeFileAtomic } from '../util/files';

/** Names of the voxel datatypes this module reads, by NIfTI datatype code. */
export const NIFTI_DATATYPES = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
} as const;
export type NiftiDatatypeName = (typeof NIFTI_DATATYPES)[keyof typeof NIFTI_DATATYPES];

/** Datatypes NIfTI defines but this module does not read (named in the error message). */
const UNSUPPORTED_DATATYPES: Record<number, string> = {
  0: 'none',
  1: 'binary',
  32: 'complex64',
  128: 'rgb24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
};

export type NiftiSpatialUnits = 'unknown' | 'm' | 'mm' | 'um';
export type NiftiAffineSource = 'sform' | 'qform' | 'pixdim';

/** The header fields a caller may want to inspect, as stored in the file (before unit conversion). */
export interface NiftiHeaderSummary {
  version: 1 | 2;
  littleEndian: boolean;
  compressed: boolean;
  datatypeCode: number;
  bitsPerVoxel: number;
  /** dim[0..7] as stored. */
  dim: number[];
  /** pixdim[0..7] as stored (pixdim[0] is qfac). */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  /** True when scl_slope/scl_inter were applied to the stored values. */
  scaled: boolean;
  calMin: number;
  calMax: number;
  qformCode: number;
  sformCode: number;
  /** Which header fields the affine came from: sform when sform_code > 0, else qform when qform_code > 0, else pixdim. */
  affineSource: NiftiAffineSource;
  /** Spatial units in the file; the volume's affine and voxel size are always converted to mm. */
  spatialUnits: NiftiSpatialUnits;
  /** xyzt_units as stored. */
  xyztUnits: number;
  intentCode: number;
  intentName: string;
  auxFile: string;
}

/** A volume read from a NIfTI file: geometry in mm, data as float32 with scl_slope/scl_inter applied. */
export interface NiftiVolume extends Volume {
  /** The file it was read from, as given. */
  file: string;
  /** Stored voxel datatype, e.g. 'int16' (data is always converted to float32). */
  datatype: NiftiDatatypeName;
  /** The header's `descrip` field (the `units=` entry included). */
  description: string;
  header: NiftiHeaderSummary;
}

export interface ReadNiftiOptions {
  /** Accept NaN/Inf voxels instead of throwing. Default false: PET volumes must be finite. */
  allowNonFinite?: boolean;
}

export interface WriteNiftiOptions {
  /** Free text stored in `descrip` after `units=<u>; ` (the field holds 79 bytes; longer text is cut). Default ''. */
  description?: string;
  /** Intensity units to record; default `volume.units` (nothing recorded when both are undefined). */
  units?: string;
  /** zlib level for .nii.gz, 0-9. Default 1, as nibabel: noisy float32 gains little from higher levels, which cost 2-3x the time. */
  compressionLevel?: number;
  /** sform_code to write. Default 1 (scanner anatomical). */
  sformCode?: number;
  /** qform_code to write when the affine has no shear (0 is written when it has). Default 1. */
  qformCode?: number;
  /** Accept NaN/Inf voxels instead of throwing. Default false. */
  allowNonFinite?: boolean;
}

/** A problem with a NIfTI file; the message starts with the file. */
export class NiftiError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`NIfTI ${file}: ${problem}`);
    this.name = 'NiftiError';
  }
}

// nifti-reader-js is ESM-only and its package "exports" has no require entry, so CommonJS
// cannot resolve it by name; its entry file is loaded by path instead (Node >= 20.19 and tsx
// both load ES modules through require).
type NiftiReaderModule = typeof NiftiReaderTypes;
let niftiReaderModule: NiftiReaderModule | undefined;
function niftiReader(): NiftiReaderModule {
  if (niftiReaderModule) return niftiReaderModule;
  const roots = require.resolve.paths('nifti-reader-js') ?? [];
  const entry = roots.map((d) => path.join(d, 'nifti-reader-js', 'dist', 'nifti.js')).find((f) => fs.existsSync(f));
  if (!entry) throw new Error('nifti-reader-js is not installed (run npm install)');
  niftiReaderModule = require(entry) as NiftiReaderModule;
  return niftiReaderModule;
}

const NIFTI1_HEADER_SIZE = 348;
const NIFTI2_HEADER_SIZE = 540;
const NIFTI1_MAGIC = 'n+1\0';
const NIFTI2_MAGIC = 'n+2\0\r\n\x1a\n';

/** Reads a 3-D NIfTI-1 or NIfTI-2 volume (.nii or .nii.gz). Throws NiftiError naming the file and the problem. */
export function readNifti(file: string, opts: ReadNiftiOptions = {}): NiftiVolume {
  return parseNifti(readFileBytes(file), file, opts);
}

/** Parses the bytes of a .nii or .nii.gz file as readNifti does; `file` names it in the volume and in errors. */
export function parseNifti(bytes: Buffer, file: string, opts: ReadNiftiOptions = {}): NiftiVolume {
  const compressed = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  // A .nii.gz is inflated in two steps: first just enough for the header, then the whole stream,
  // refused as soon as it outgrows what the header's dims describe (see inflateBounded).
  const head = compressed ? inflateHead(bytes, file) : bytes;
  const version = detectVersion(file, head);
  const headerSize = version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  // Only the fixed header goes to the library: extension parsing is not needed and would
  // throw its own messages on damaged files.
  const headerBuf = toArrayBuffer(head, 0, headerSize);
  let hdr: NiftiReaderTypes.NIFTI1 | NiftiReaderTypes.NIFTI2;
  try {
    hdr = niftiReader().readHeader(headerBuf);
  } catch (err) {
    throw new NiftiError(file, `unreadable header (${(err as Error).message})`);
  }
  const le = hdr.littleEndian;
  const view = new DataView(headerBuf);

  const datatypeCode = hdr.datatypeCode;
  const datatype = (NIFTI_DATATYPES as Record<number, NiftiDatatypeName>)[datatypeCode];
  if (!datatype) {
    const known = UNSUPPORTED_DATATYPES[datatypeCode];
    throw new NiftiError(
      file,
      `unsupported datatype code ${datatypeCode}${known ? ` (${known})` : ' (not a NIfTI datatype)'}; ` +
        `supported: ${Object.entries(NIFTI_DATATYPES).map(([c, n]) => `${n} (${c})`).join(', ')}`,
    );
  }
  const bytesPerVoxel = bytesOf(datatype);

  const dim = hdr.dims.slice(0, 8).map(Number);
  const dims = spatialDims(file, dim);
  const nvox = dims[0] * dims[1] * dims[2];

  const voxOffset = Number(hdr.vox_offset);
  if (!Number.isFinite(voxOffset) || voxOffset < headerSize) {
    throw new NiftiError(file, `vox_offset ${hdr.vox_offset} is inside the ${headerSize}-byte header (corrupt header)`);
  }
  const start = Math.floor(voxOffset);
  const needed = nvox * bytesPerVoxel;
  const described = `dims ${dims.join('x')} of ${datatype} need ${needed} bytes from offset ${start}`;
  const raw = compressed ? inflateBounded(bytes, file, start + needed, described) : bytes;
  if (raw.length < start + needed) {
    throw new NiftiError(file, `truncated image data: ${described}, but only ${Math.max(0, raw.length - start)} are there`);
  }

  const slope = Number(hdr.scl_slope);
  const inter = Number(hdr.scl_inter);
  const scaled = Number.isFinite(slope) && slope !== 0 && !(slope === 1 && (inter === 0 || !Number.isFinite(inter)));
  const data = decodeVoxels(raw, start, nvox, datatype, le, scaled ? slope : 1, scaled && Number.isFinite(inter) ? inter : 0);

  if (!opts.allowNonFinite) assertFinite(file, data, dims, 'voxel values');

  const pixdim = hdr.pixDims.slice(0, 8).map(Number);
  const xyztUnits = Number(hdr.xyzt_units);
  const spatialUnits = spatialUnitsOf(xyztUnits);
  const toMm = spatialUnits === 'm' ? 1000 : spatialUnits === 'um' ? 0.001 : 1;

  const sformCode = Number(hdr.sform_code);
  const qformCode = Number(hdr.qform_code);
  let affineSource: NiftiAffineSource;
  let affine: number[][];
  if (sformCode > 0) {
    affineSource = 'sform';
    affine = readSrows(view, version, le);
  } else if (qformCode > 0) {
    affineSource = 'qform';
    affine = quaternToAffine(
      [Number(hdr.quatern_b), Number(hdr.quatern_c), Number(hdr.quatern_d)],
      [Number(hdr.qoffset_x), Number(hdr.qoffset_y), Number(hdr.qoffset_z)],
      [pixdim[1], pixdim[2], pixdim[3]],
      pixdim[0] < 0 ? -1 : 1,
    );
  } else {
    affineSource = 'pixdim';
    affine = [
      [pixdim[1], 0, 0, 0],
      [0, pixdim[2], 0, 0],
      [0, 0, pixdim[3], 0],
      [0, 0, 0, 1],
    ];
  }
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) affine[r][c] *= toMm;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      if (!Number.isFinite(affine[r][c])) throw new NiftiError(file, `${affineSource} affine has a non-finite entry [${r}][${c}]`);
    }
  }

  const voxelSize = voxelSizeOf(pixdim, affine, toMm);
  const description = String(hdr.description ?? '');
  const intentName = String(hdr.intent_name ?? '');
  const intentCode = Number(hdr.intent_code);

  return {
    file,
    data,
    dims,
    voxelSize,
    affine,
    units: unitsOf(description, intentName, intentCode),
    datatype,
    description,
    header: {
      version,
      littleEndian: le,
      compressed,
      datatypeCode,
      bitsPerVoxel: Number(hdr.numBitsPerVoxel),
      dim,
      pixdim,
      voxOffset,
      sclSlope: slope,
      sclInter: inter,
      scaled,
      calMin: Number(hdr.cal_min),
      calMax: Number(hdr.cal_max),
      qformCode,
      sformCode,
      affineSource,
      spatialUnits,
      xyztUnits,
      intentCode,
      intentName,
      auxFile: String(hdr.aux_file ?? ''),
    },
  };
}

/**
 * Writes a volume as NIfTI-1 float32, gzip-compressed when the name ends with .nii.gz.
 * The sform holds the affine; the qform holds its rotation/flip decomposition (qform_code 0 when
 * the affine has shear). Atomic: a temporary file is renamed over the target. Returns the hex
 * sha256 of the bytes written.
 */
export function writeNifti(file: string, volume: Volume, opts: WriteNiftiOptions = {}): string {
  const lower = file.toLowerCase();
  const gzip = lower.endsWith('.nii.gz');
  if (!gzip && !lower.endsWith('.nii')) throw new NiftiError(file, 'file name must end with .nii or .nii.gz');
  const { dims, data } = volume;
  if (!Array.isArray(dims) || dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1 || d > 32767)) {
    throw new NiftiError(file, `dims must be 3 integers in [1, 32767], got ${JSON.stringify(dims)}`);
  }
  if (!(data instanceof Float32Array)) throw new NiftiError(file, 'data must be a Float32Array');
  const nvox = dims[0] * dims[1] * dims[2];
  if (data.length !== nvox) {
    throw new NiftiError(file, `data length ${data.length} does not match dims ${dims.join('x')} (= ${nvox} voxels)`);
  }
  const affine = checkAffine(file, volume.affine);
  if (!opts.allowNonFinite) assertFinite(file, data, dims, 'data');

  const decomposition = decomposeAffine(affine);
  if (!decomposition) throw new NiftiError(file, 'affine is singular (a zero or dependent column)');
  const { pixdim: zooms, qfac, quatern, sheared } = decomposition;
  const vs = volume.voxelSize;
  if (!Array.isArray(vs) || vs.length !== 3 || vs.some((v) => !(v > 0))) {
    throw new NiftiError(file, `voxelSize must be 3 positive numbers, got ${JSON.stringify(vs)}`);
  }
  for (let a = 0; a < 3; a++) {
    if (Math.abs(vs[a] - zooms[a]) > 1e-4 * Math.max(1, zooms[a])) {
      throw new NiftiError(
        file,
        `voxelSize [${vs.join(', ')}] disagrees with the affine's column lengths [${zooms.map((z) => +z.toFixed(6)).join(', ')}]`,
      );
    }
  }
  const level = opts.compressionLevel ?? 1;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new NiftiError(file, `compressionLevel must be 0-9, got ${level}`);

  let calMin = Infinity;
  let calMax = -Infinity;
  for (let i = 0; i < nvox; i++) {
    const v = data[i];
    if (v < calMin) calMin = v;
    if (v > calMax) calMax = v;
  }
  if (!Number.isFinite(calMin)) calMin = calMax = 0;

  const units = opts.units ?? volume.units;
  const descrip = truncateUtf8([units ? `units=${units}` : '', opts.description ?? ''].filter(Boolean).join('; '), 79);
  const qformCode = sheared ? 0 : opts.qformCode ?? 1;
  const sformCode = opts.sformCode ?? 1;

  const { NIFTI1 } = niftiReader();
  const hdr = new NIFTI1();
  hdr.littleEndian = true;
  hdr.dims = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1];
  hdr.datatypeCode = NIFTI1.TYPE_FLOAT32;
  hdr.numBitsPerVoxel = 32;
  hdr.pixDims = [qfac, zooms[0], zooms[1], zooms[2], 0, 0, 0, 0];
  hdr.vox_offset = 352;
  hdr.scl_slope = 1;
  hdr.scl_inter = 0;
  hdr.xyzt_units = NIFTI1.UNITS_MM;
  hdr.cal_min = calMin;
  hdr.cal_max = calMax;
  hdr.description = descrip;
  hdr.aux_file = '';
  hdr.intent_code = 0;
  hdr.intent_name = units && Buffer.byteLength(units) <= 15 ? units : '';
  hdr.qform_code = qformCode;
  hdr.sform_code = sformCode;
  hdr.quatern_b = qformCode ? quatern[0] : 0;
  hdr.quatern_c = qformCode ? quatern[1] : 0;
  hdr.quatern_d = qformCode ? quatern[2] : 0;
  hdr.qoffset_x = affine[0][3];
  hdr.qoffset_y = affine[1][3];
  hdr.qoffset_z = affine[2][3];
  hdr.affine = affine.map((row) => row.slice());
  hdr.magic = NIFTI1_MAGIC;
  const header = new Uint8Array(hdr.toArrayBuffer(false));
  if (header.length !== 352) throw new Error(`writeNifti: internal error, header is ${header.length} bytes, expected 352`);
  header[38] = 0x72; // 'regular' = 'r', expected by some Analyze-era readers

  const out = Buffer.alloc(352 + nvox * 4);
  out.set(header, 0);
  if (os.endianness() === 'LE') {
    out.set(new Uint8Array(data.buffer, data.byteOffset, nvox * 4), 352);
  } else {
    const dv = new DataView(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < nvox; i++) dv.setFloat32(352 + 4 * i, data[i], true);
  }
  // zlib's gzip wrapper writes mtime 0 and no file name: the bytes depend on the content only.
  const bytes = gzip ? zlib.gzipSync(out, { level }) : out;
  writeFileAtomic(file, bytes);
  return digest(bytes);
}

/**
 * sha256 of what a volume is, not how it is stored: dims, the affine (float64) and the decoded
 * float32 voxel values. Re-compressing a file, changing its header description or storing the
 * same values as int16 with a slope leaves it unchanged; any voxel or geometry change alters it.
 */
export function voxelDigest(volume: Pick<Volume, 'dims' | 'affine' | 'data'>): string {
  const hash = crypto.createHash('sha256');
  hash.update(`pet-iqa/voxels@1 dims ${volume.dims.join('x')}\n`);
  const affine = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) affine[4 * r + c] = volume.affine[r][c];
  hash.update(toLittleEndian(new Uint8Array(affine.buffer), 8));
  const d = volume.data;
  hash.update(toLittleEndian(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), 4));
  return hash.digest('hex');
}

/** The bytes as little-endian (a copy swapped on big-endian hosts), so digests agree across machines. */
function toLittleEndian(bytes: Uint8Array, size: 4 | 8): Uint8Array {
  if (os.endianness() === 'LE') return bytes;
  const b = Buffer.from(bytes);
  if (size === 4) b.swap32();
  else b.swap64();
  return b;
}

// ---------------------------------------------------------------------------------------------
// Geometry

/**
 * The NIfTI qform: rotation from quaternion (b, c, d) with a = sqrt(1 - b^2 - c^2 - d^2),
 * scaled by pixdim and qfac, offset by qoffset (nifti1_io's nifti_quatern_to_mat44).
 */
export function quaternToAffine(
  bcd: [number, number, number],
  offset: [number, number, number],
  pixdim: [number, number, number],
  qfac: 1 | -1,
): number[][] {
  let [b, c, d] = bcd;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // a is ~0: the quaternion is a 180-degree rotation; renormalise (b, c, d) as nifti1_io does.
    const s = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= s;
    c *= s;
    d *= s;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const zooms = pixdim.map((p) => (p > 0 ? p : 1));
  zooms[2] *= qfac;
  return [
    [R[0][0] * zooms[0], R[0][1] * zooms[1], R[0][2] * zooms[2], offset[0]],
    [R[1][0] * zooms[0], R[1][1] * zooms[1], R[1][2] * zooms[2], offset[1]],
    [R[2][0] * zooms[0], R[2][1] * zooms[1], R[2][2] * zooms[2], offset[2]],
    [0, 0, 0, 1],
  ];
}

export interface AffineDecomposition {
  /** Column lengths of the 3x3 part: the voxel sizes. */
  pixdim: [number, number, number];
  /** -1 when the 3x3 part has a negative determinant (the third column is flipped). */
  qfac: 1 | -1;
  /** Quaternion (b, c, d) of the proper rotation, with a >= 0. */
  quatern: [number, number, number];
  /** True when the normalised columns are not orthogonal: no qform can represent the affine. */
  sheared: boolean;
}

/** Splits an affine into voxel sizes, qfac and a rotation quaternion (nifti1_io's nifti_mat44_to_quatern). Undefined when singular. */
export function decomposeAffine(affine: number[][]): AffineDecomposition | undefined {
  const cols = [0, 1, 2].map((c) => [affine[0][c], affine[1][c], affine[2][c]]);
  const norms = cols.map((v) => Math.hypot(v[0], v[1], v[2]));
  if (norms.some((n) => !(n > 0))) return undefined;
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((c) => cols[c][r] / norms[c]));
  const det =
    R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) -
    R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) +
    R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  if (Math.abs(det) < 1e-12) return undefined;
  let sheared = false;
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      const dot = R[0][i] * R[0][j] + R[1][i] * R[1][j] + R[2][i] * R[2][j];
      if (Math.abs(dot) > 1e-6) sheared = true;
    }
  }
  const qfac: 1 | -1 = det < 0 ? -1 : 1;
  if (qfac < 0) for (let r = 0; r < 3; r++) R[r][2] = -R[r][2];
  const [b, c, d] = rotationToQuaternion(R);
  return { pixdim: [norms[0], norms[1], norms[2]], qfac, quatern: [b, c, d], sheared };
}

/** Quaternion (b, c, d) with a >= 0 of a proper rotation matrix (the branch structure of nifti1_io). */
function rotationToQuaternion(R: number[][]): [number, number, number] {
  let a = R[0][0] + R[1][1] + R[2][2] + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (R[2][1] - R[1][2])) / a;
    c = (0.25 * (R[0][2] - R[2][0])) / a;
    d = (0.25 * (R[1][0] - R[0][1])) / a;
  } else {
    const xd = 1 + R[0][0] - (R[1][1] + R[2][2]);
    const yd = 1 + R[1][1] - (R[0][0] + R[2][2]);
    const zd = 1 + R[2][2] - (R[0][0] + R[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (R[0][1] + R[1][0])) / b;
      d = (0.25 * (R[0][2] + R[2][0])) / b;
      a = (0.25 * (R[2][1] - R[1][2])) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (R[0][1] + R[1][0])) / c;
      d = (0.25 * (R[1][2] + R[2][1])) / c;
      a = (0.25 * (R[0][2] - R[2][0])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (R[0][2] + R[2][0])) / d;
      c = (0.25 * (R[1][2] + R[2][1])) / d;
      a = (0.25 * (R[1][0] - R[0][1])) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return [b, c, d];
}

function readSrows(view: DataView, version: 1 | 2, le: boolean): number[][] {
  const affine = [0, 1, 2].map((r) =>
    [0, 1, 2, 3].map((c) => (version === 1 ? view.getFloat32(280 + 4 * (4 * r + c), le) : view.getFloat64(400 + 8 * (4 * r + c), le))),
  );
  affine.push([0, 0, 0, 1]);
  return affine;
}

/** pixdim[1..3] in mm (as nibabel's zooms); the affine's column lengths where pixdim is unusable. */
function voxelSizeOf(pixdim: number[], affine: number[][], toMm: number): [number, number, number] {
  const out: number[] = [];
  for (let a = 0; a < 3; a++) {
    const p = Math.abs(pixdim[a + 1]) * toMm;
    out.push(Number.isFinite(p) && p > 0 ? p : Math.hypot(affine[0][a], affine[1][a], affine[2][a]));
  }
  return [out[0], out[1], out[2]];
}

function checkAffine(file: string, affine: unknown): number[][] {
  const ok =
    Array.isArray(affine) &&
    affine.length === 4 &&
    affine.every((row) => Array.isArray(row) && row.length === 4 && row.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!ok) throw new NiftiError(file, 'affine must be a 4x4 array of finite numbers');
  const m = affine as number[][];
  if (m[3][0] !== 0 || m[3][1] !== 0 || m[3][2] !== 0 || m[3][3] !== 1) {
    throw new NiftiError(file, `affine's last row must be [0, 0, 0, 1], got [${m[3].join(', ')}]`);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Header and voxel helpers

/** Largest expansion of deflate data (zlib's documented bound is about 1032:1), with room for gzip framing. */
const MAX_DEFLATE_RATIO = 1032;
/** Bytes a .nii.gz may inflate to beyond what its header describes (padding some writers add). */
export const NIFTI_GZIP_SLACK_BYTES = 1 << 20;

/** The start of a gzip stream, inflated from a growing prefix until it holds a NIfTI-2 header (or the stream ends). */
function inflateHead(bytes: Buffer, file: string): Buffer {
  for (let prefix = 1024; ; prefix *= 16) {
    const end = Math.min(prefix, bytes.length);
    let out: Buffer;
    try {
      // A sync flush decodes what the prefix holds without requiring the end of the stream.
      out = zlib.gunzipSync(bytes.subarray(0, end), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: end * MAX_DEFLATE_RATIO + 65536 });
    } catch (err) {
      throw new NiftiError(file, `truncated or corrupt gzip data (${(err as Error).message})`);
    }
    if (out.length >= NIFTI2_HEADER_SIZE || end === bytes.length) return out;
  }
}

/**
 * Inflates a whole .nii.gz, but never to more than the `expected` bytes its header describes (plus
 * NIFTI_GZIP_SLACK_BYTES): a small file that would expand to many GB is refused as soon as it passes
 * the limit, and a header describing more than the compressed bytes can hold is refused before inflating.
 */
function inflateBounded(bytes: Buffer, file: string, expected: number, described: string): Buffer {
  if (expected > bytes.length * MAX_DEFLATE_RATIO + 65536) {
    throw new NiftiError(file, `truncated image data: ${described}, more than ${bytes.length} gzip-compressed bytes can hold (truncated file or corrupt header)`);
  }
  const limit = expected + NIFTI_GZIP_SLACK_BYTES;
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new NiftiError(file, `gzip data inflates to more than ${limit} bytes but the header describes ${expected} (${described}); refused without inflating the rest (corrupt header or a decompression bomb)`);
    }
    throw new NiftiError(file, `truncated or corrupt gzip data (${(err as Error).message})`);
  }
}

function readFileBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NiftiError(file, 'file not found');
    if (code === 'EISDIR') throw new NiftiError(file, 'is a directory, not a file');
    throw new NiftiError(file, `cannot read (${(err as Error).message})`);
  }
}

function detectVersion(file: string, raw: Buffer): 1 | 2 {
  if (raw.length < NIFTI1_HEADER_SIZE) {
    throw new NiftiError(file, `not a NIfTI file: ${raw.length} bytes, shorter than a NIfTI-1 header (348)`);
  }
  const sizeLE = raw.readInt32LE(0);
  const sizeBE = raw.readInt32BE(0);
  if (sizeLE === NIFTI1_HEADER_SIZE || sizeBE === NIFTI1_HEADER_SIZE) {
    const magic = raw.toString('latin1', 344, 348);
    if (magic === NIFTI1_MAGIC) return 1;
    if (magic === 'ni1\0') throw new NiftiError(file, 'is the header of a .hdr/.img pair; only single-file .nii/.nii.gz is supported');
    throw new NiftiError(file, `not a NIfTI file: wrong magic ${JSON.stringify(magic)} at byte 344 (expected "n+1")`);
  }
  if (sizeLE === NIFTI2_HEADER_SIZE || sizeBE === NIFTI2_HEADER_SIZE) {
    if (raw.length < NIFTI2_HEADER_SIZE) throw new NiftiError(file, `truncated NIfTI-2 header (${raw.length} of 540 bytes)`);
    const magic = raw.toString('latin1', 4, 12);
    if (magic === NIFTI2_MAGIC) return 2;
    throw new NiftiError(file, `not a NIfTI file: wrong magic ${JSON.stringify(magic)} at byte 4 (expected "n+2")`);
  }
  throw new NiftiError(file, `not a NIfTI file: sizeof_hdr is ${sizeLE} (expected 348 for NIfTI-1 or 540 for NIfTI-2)`);
}

/** [nx, ny, nz] from dim[]; rejects anything that is not a single 3-D volume. */
function spatialDims(file: string, dim: number[]): [number, number, number] {
  const ndim = dim[0];
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) throw new NiftiError(file, `dim[0] is ${ndim}, must be 1-7 (corrupt header)`);
  const shape = dim.slice(1, ndim + 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new NiftiError(file, `dim [${shape.join(', ')}] has a non-positive size (corrupt header)`);
  }
  if (ndim < 3 || shape[2] === 1) {
    throw new NiftiError(file, `is ${ndim < 3 ? `${ndim}-D` : '2-D (one slice)'} with dims ${shape.join('x')}; a 3-D volume is required`);
  }
  const extra = shape.slice(3);
  if (extra.some((d) => d !== 1)) {
    throw new NiftiError(file, `is ${ndim}-D with dims ${shape.join('x')}; only 3-D volumes (4-D with one frame) are supported`);
  }
  return [shape[0], shape[1], shape[2]];
}

function bytesOf(datatype: NiftiDatatypeName): number {
  switch (datatype) {
    case 'uint8':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'float64':
      return 8;
    default:
      return 4;
  }
}

/** Converts stored voxels to float32, applying value = stored * slope + inter in double precision. */
function decodeVoxels(
  raw: Buffer,
  start: number,
  nvox: number,
  datatype: NiftiDatatypeName,
  littleEndian: boolean,
  slope: number,
  inter: number,
): Float32Array {
  const size = bytesOf(datatype);
  // Copy into a fresh, aligned buffer (vox_offset need not be a multiple of 8), swapping bytes
  // for big-endian files so typed arrays can read them.
  const bytes = new Uint8Array(nvox * size);
  bytes.set(raw.subarray(start, start + nvox * size));
  if (littleEndian !== (os.endianness() === 'LE') && size > 1) {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (size === 2) buf.swap16();
    else if (size === 4) buf.swap32();
    else buf.swap64();
  }
  const ab = bytes.buffer;
  const src =
    datatype === 'uint8' ? new Uint8Array(ab)
    : datatype === 'int8' ? new Int8Array(ab)
    : datatype === 'int16' ? new Int16Array(ab)
    : datatype === 'uint16' ? new Uint16Array(ab)
    : datatype === 'int32' ? new Int32Array(ab)
    : datatype === 'uint32' ? new Uint32Array(ab)
    : datatype === 'float32' ? new Float32Array(ab)
    : new Float64Array(ab);
  if (datatype === 'float32' && slope === 1 && inter === 0) return src as Float32Array;
  const out = new Float32Array(nvox);
  if (slope === 1 && inter === 0) {
    out.set(src);
  } else {
    for (let i = 0; i < nvox; i++) out[i] = src[i] * slope + inter;
  }
  return out;
}

function assertFinite(file: string, data: Float32Array, dims: [number, number, number], what: string): void {
  const { count, first } = nonFiniteCount(data);
  if (count > 0) {
    const i = first % dims[0];
    const j = Math.floor(first / dims[0]) % dims[1];
    const k = Math.floor(first / (dims[0] * dims[1]));
    throw new NiftiError(
      file,
      `${what} contain ${count} NaN/Inf voxel(s); the first at index ${first} (i=${i}, j=${j}, k=${k}) is ${data[first]}`,
    );
  }
}

function spatialUnitsOf(xyztUnits: number): NiftiSpatialUnits {
  switch (xyztUnits & 7) {
    case 1:
      return 'm';
    case 2:
      return 'mm';
    case 3:
      return 'um';
    default:
      // NIfTI leaves 0 undefined; mm is what every reader assumes.
      return 'unknown';
  }
}

function unitsOf(description: string, intentName: string, intentCode: number): string | undefined {
  const m = /(?:^|[;\s])units=([^;]+)/.exec(description);
  if (m) return m[1].trim() || undefined;
  if (intentCode === 0 && intentName.trim()) return intentName.trim();
  return undefined;
}

function truncateUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  // Do not cut a multi-byte character in half.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

function toArrayBuffer(buf: Buffer, start: number, end: number): ArrayBuffer {
  const out = new ArrayBuffer(end - start);
  new Uint8Array(out).set(buf.subarray(start, end));
  return out;
}
