/**
 * The patch data a study runs on, as workers see it: loaded from a cohort manifest (through
 * lib/patches' cache) or, for tests and imported data, from a self-contained dataset file.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ManifestChecksums } from '../manifest';
import { loadManifest } from '../manifest/load';
import { buildPatchDataset, type PatchDataset } from '../patches/dataset';
import { writeFileAtomic, writeJsonAtomic } from '../util/files';

/** The part of lib/patches' PatchDataset a study needs. */
export type StudyDataset = Pick<PatchDataset, 'key' | 'size' | 'count' | 'patches' | 'labels' | 'patchPatient'> & {
  /** Reconstruction (volume) of each patch, for per-volume errors; see volumeIdsOf when absent. */
  patchRecon?: string[];
};

/**
 * The volume each patch comes from: `patchRecon`, or, for dataset files written without it, the
 * patient and label triple (patches of one reconstruction share both).
 */
export function volumeIdsOf(ds: StudyDataset): string[] {
  if (ds.patchRecon) {
    if (ds.patchRecon.length !== ds.count) throw new Error(`dataset ${ds.key}: ${ds.patchRecon.length} patchRecon entries for ${ds.count} patches`);
    return ds.patchRecon;
  }
  return ds.patchPatient.map((p, i) => `${p}|${ds.labels[i * 3]}|${ds.labels[i * 3 + 1]}|${ds.labels[i * 3 + 2]}`);
}

/** Where the data came from, for every record. */
export interface DataProvenance {
  kind: 'synthetic' | 'real';
  manifest: string;
  manifestSha256: string;
  patchSetHash: string;
  /** The reconstruction files' sha256 check (absent in records from before it existed). */
  checksums?: ManifestChecksums;
}

/** How a worker finds the data (serialisable). */
export type DataSource =
  | { kind: 'manifest'; manifestPath: string; patchConfig: Record<string, unknown>; /** Default true; false is `--no-verify`. */ verifyChecksums?: boolean }
  | { kind: 'file'; file: string };

interface DatasetFileHeader {
  schema: 'pet-iqa/study-dataset@1';
  key: string;
  size: number;
  count: number;
  patchPatient: string[];
  patchRecon?: string[];
  provenance: DataProvenance;
}

/** Writes a dataset as `<file>` (JSON) + `<file>.f32` (patches then labels). */
export function writeDatasetFile(file: string, ds: StudyDataset, provenance: DataProvenance): void {
  if (ds.patches.length !== ds.count * ds.size * ds.size || ds.labels.length !== ds.count * 3 || ds.patchPatient.length !== ds.count) {
    throw new Error(`writeDatasetFile: inconsistent dataset (count ${ds.count}, size ${ds.size})`);
  }
  const bin = new Float32Array(ds.patches.length + ds.labels.length);
  bin.set(ds.patches);
  bin.set(ds.labels, ds.patches.length);
  writeFileAtomic(`${file}.f32`, new Uint8Array(bin.buffer));
  const header: DatasetFileHeader = { schema: 'pet-iqa/study-dataset@1', key: ds.key, size: ds.size, count: ds.count, patchPatient: ds.patchPatient, ...(ds.patchRecon ? { patchRecon: ds.patchRecon } : {}), provenance };
  writeJsonAtomic(file, header);
}

export function readDatasetFile(file: string): { ds: StudyDataset; provenance: DataProvenance } {
  const h = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetFileHeader;
  if (h.schema !== 'pet-iqa/study-dataset@1') throw new Error(`${file}: not a pet-iqa/study-dataset@1 file`);
  const buf = fs.readFileSync(`${file}.f32`);
  const all = new Float32Array(buf.byteLength / 4);
  new Uint8Array(all.buffer).set(buf);
  const np = h.count * h.size * h.size;
  if (all.length !== np + h.count * 3) throw new Error(`${file}.f32: ${all.length} values, expected ${np + h.count * 3}`);
  return {
    ds: { key: h.key, size: h.size, count: h.count, patchPatient: h.patchPatient, ...(h.patchRecon ? { patchRecon: h.patchRecon } : {}), patches: all.subarray(0, np), labels: all.subarray(np) },
    provenance: h.provenance,
  };
}

let cached: { source: string; value: { ds: StudyDataset; provenance: DataProvenance; testPatients?: string[] } } | undefined;

/** Loads (once per process) the dataset of a source. */
export async function loadStudyData(source: DataSource): Promise<{ ds: StudyDataset; provenance: DataProvenance; testPatients?: string[] }> {
  const k = JSON.stringify(source);
  if (cached?.source === k) return cached.value;
  let value: { ds: StudyDataset; provenance: DataProvenance; testPatients?: string[] };
  if (source.kind === 'file') {
    value = readDatasetFile(source.file);
  } else {
    const loaded = loadManifest(source.manifestPath, { verifyChecksums: source.verifyChecksums ?? true });
    const ds = await buildPatchDataset(loaded, source.patchConfig);
    const m = loaded.manifest as unknown as { synthetic?: boolean; testPatients?: string[] };
    value = {
      ds,
      provenance: { kind: m.synthetic === false ? 'real' : 'synthetic', manifest: path.relative(process.cwd(), loaded.file) || loaded.file, manifestSha256: loaded.sha256, patchSetHash: ds.key, checksums: loaded.checksums },
      testPatients: m.testPatients,
    };
  }
  cached = { source: k, value };
  return value;
}

/** Unique patients in order of first appearance. */
export function patientsOf(ds: StudyDataset): string[] {
  return [...new Set(ds.patchPatient)];
}
