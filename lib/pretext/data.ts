/**
 * The pretext data: patches of every reconstruction (all count levels, rated or not) of the
 * non-test patients, each labelled with the log of its count percentage. Test patients are removed
 * from the manifest before any volume is read, and the patch provenance is checked afterwards.
 */
import { labelsOf, loadManifest, type LoadedManifest } from '../manifest';
import { buildPatchDataset, type PatchDatasetConfig } from '../patches/dataset';
import { makeDesign, type DesignConfig } from '../design/design';
import { stableHash } from '../util/files';

/** The label-free tasks a backbone can be pretrained on. */
// The task names are part of the weights-source syntax, owned by lib/weights/source.
import { PRETEXT_TASKS, type PretextTask } from '../weights/source';
export { PRETEXT_TASKS, type PretextTask };

/** Human label of a task, as run records and figures show it. */
export function pretextTaskLabel(task: PretextTask): string {
  return task === 'count-level' ? 'count level' : task;
}

/** Pretext patches with their targets. */
export interface PretextData {
  size: number;
  count: number;
  /** count * size * size grey values in [0, 1] (per-volume min-max, as the study's patches). */
  patches: Float32Array;
  /** ln(count %) of each patch's reconstruction. */
  targets: Float32Array;
  patchPatient: string[];
  patchRecon: string[];
  /** Patients the patches come from (sorted); never a test patient. */
  patients: string[];
  /** Patients excluded before sampling (sorted). */
  excludedPatients: string[];
  /** lib/patches' key of the (filtered) patch set. */
  patchSetHash: string;
  manifestSha256: string;
}

/** Options of loadPretextData. */
export interface PretextDataArgs {
  /** Patients never read (the study's test patients). Required: pass [] explicitly to use everyone. */
  excludePatients: readonly string[];
  /** Sampler settings (size, candidates, keep per plane, seed, ...); includeUnrated is forced on. */
  patchConfig?: Omit<PatchDatasetConfig, 'includeUnrated' | 'onProgress'>;
}

/**
 * The study's test patients for a manifest and design config, as the runner derives them: the
 * manifest's `testPatients`, else the design's seeded choice among the patients with rated volumes.
 */
export function studyTestPatients(loaded: LoadedManifest, design: DesignConfig): string[] {
  const m = loaded.manifest;
  if (m.testPatients && m.testPatients.length > 0) return [...m.testPatients].sort();
  const rated = [...new Set(m.reconstructions.filter((r) => labelsOf(r) !== undefined).map((r) => r.patient))];
  return [...makeDesign(rated, design).testPatients].sort();
}

/** Loads the pretext patches of a cohort manifest (file or already loaded). */
export async function loadPretextData(manifest: string | LoadedManifest, args: PretextDataArgs): Promise<PretextData> {
  const loaded = typeof manifest === 'string' ? loadManifest(manifest) : manifest;
  const excluded = [...new Set(args.excludePatients)].sort();
  const keep = loaded.manifest.reconstructions.filter((r) => !excluded.includes(r.patient));
  if (keep.length === 0) throw new Error(`${loaded.file}: no reconstructions left for pretext pretraining after excluding patients ${excluded.join(', ')}`);
  // The filtered manifest gets its own identity so lib/patches caches it apart from the full cohort
  // (each volume's patches depend only on the seed and its id, so they equal the full cohort's).
  const filtered: LoadedManifest = {
    ...loaded,
    manifest: { ...loaded.manifest, reconstructions: keep },
    sha256: stableHash({ manifest: loaded.sha256, excludedPatients: excluded }),
  };
  const ds = await buildPatchDataset(filtered, { ...(args.patchConfig ?? {}), includeUnrated: true });
  const percentOf = new Map(keep.map((r) => [r.id, r.countPercent]));
  const targets = new Float32Array(ds.count);
  for (let i = 0; i < ds.count; i++) {
    if (excluded.includes(ds.patchPatient[i])) {
      throw new Error(`pretext data: patch ${i} comes from excluded patient '${ds.patchPatient[i]}' (reconstruction ${ds.patchRecon[i]})`);
    }
    const pct = percentOf.get(ds.patchRecon[i]);
    if (pct === undefined) throw new Error(`pretext data: patch ${i} belongs to reconstruction '${ds.patchRecon[i]}', which the manifest does not list`);
    targets[i] = Math.log(pct);
  }
  return {
    size: ds.size,
    count: ds.count,
    patches: ds.patches,
    targets,
    patchPatient: ds.patchPatient,
    patchRecon: ds.patchRecon,
    patients: [...new Set(ds.patchPatient)].sort(),
    excludedPatients: excluded,
    patchSetHash: ds.key,
    manifestSha256: loaded.sha256,
  };
}
