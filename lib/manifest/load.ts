/**
 * Loading and writing cohort manifests, and the questions the rest of the pipeline asks of them
 * (where is a reconstruction's file, which reconstructions carry labels).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { MetricTriple } from '../types';
import { digest, fileDigest, writeJsonAtomic } from '../util/files';
import { ChecksumCache, defaultChecksumCacheFile } from './checksums';
import { labelsOf } from './labels';
import type { CohortManifest, Reconstruction } from './schema';
import { formatProblems, parseManifest, type ManifestProblem } from './validate';

/** A manifest that failed to load or validate; `problems` lists every problem with its field path. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ManifestProblem[],
  ) {
    super(
      `Cohort manifest ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        formatProblems(problems)
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n'),
    );
    this.name = 'ManifestError';
  }
}

export interface LoadManifestOptions {
  /** Check that every reconstruction file exists. Default true. */
  checkFiles?: boolean;
  /**
   * Check the sha256 of reconstructions that have one, before anything uses the files. Default true;
   * false is the explicit opt-out (`--no-verify`), recorded in `checksums`.
   */
  verifyChecksums?: boolean;
  /** Cache of file digests by size and mtime (see ChecksumCache); null: none. Default results/cache/checksums.json. */
  checksumCacheFile?: string | null;
}

/** What was checked of the reconstruction files' sha256 (for provenance). */
export interface ManifestChecksums {
  /** False when verification was switched off (`--no-verify`). */
  verified: boolean;
  /** Reconstructions that carry a sha256 (all verified when `verified`). */
  withChecksum: number;
  /** Reconstructions without a sha256 (nothing to verify). */
  withoutChecksum: number;
}

export interface LoadedManifest {
  /** Absolute path of the manifest file. */
  file: string;
  /** Its folder: reconstruction paths are relative to it. */
  dir: string;
  manifest: CohortManifest;
  /** SHA-256 of the manifest file's bytes (for provenance). */
  sha256: string;
  checksums: ManifestChecksums;
}

/** A reconstruction that carries labels, with its file resolved. */
export interface ScoredReconstruction {
  recon: Reconstruction;
  labels: MetricTriple;
  /** Absolute path of the NIfTI file. */
  path: string;
}

/** Reads and validates a manifest. Throws ManifestError naming the file and listing every problem. */
export function loadManifest(file: string, opts: LoadManifestOptions = {}): LoadedManifest {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestError(abs, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read (${(err as Error).message})` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(abs, [{ path: '', message: `invalid JSON (${(err as Error).message})` }]);
  }
  const dir = path.dirname(abs);
  const verify = opts.verifyChecksums ?? true;
  const cache = verify ? new ChecksumCache(opts.checksumCacheFile === undefined ? defaultChecksumCacheFile() : opts.checksumCacheFile) : undefined;
  const { manifest, problems } = parseManifest(json, {
    baseDir: dir,
    source: abs,
    checkFiles: opts.checkFiles ?? true,
    verifyChecksums: verify,
    sha256Of: cache ? (f) => cache.sha256(f) : undefined,
  });
  cache?.save();
  if (!manifest) throw new ManifestError(abs, problems);
  const withChecksum = manifest.reconstructions.filter((r) => r.sha256 !== undefined).length;
  const checksums = { verified: verify, withChecksum, withoutChecksum: manifest.reconstructions.length - withChecksum };
  return { file: abs, dir, manifest, sha256: digest(text), checksums };
}

/** Absolute path of a reconstruction's file. */
export function resolvePath(loaded: Pick<LoadedManifest, 'dir'>, recon: Pick<Reconstruction, 'path'>): string {
  return path.resolve(loaded.dir, recon.path);
}

/** The reconstructions that carry labels (rated or with a consensus), in manifest order. */
export function scoredReconstructions(loaded: LoadedManifest): ScoredReconstruction[] {
  const out: ScoredReconstruction[] = [];
  for (const recon of loaded.manifest.reconstructions) {
    const labels = labelsOf(recon);
    if (labels) out.push({ recon, labels, path: resolvePath(loaded, recon) });
  }
  return out;
}

export interface WriteManifestOptions {
  /** Also check that the reconstruction files exist (relative to the new manifest's folder). Default false. */
  checkFiles?: boolean;
}

/** Validates and writes a manifest atomically (two-space JSON). Throws ManifestError and writes nothing when invalid. */
export function writeManifest(file: string, manifest: CohortManifest, opts: WriteManifestOptions = {}): void {
  const abs = path.resolve(file);
  const { problems } = parseManifest(manifest, { baseDir: path.dirname(abs), source: abs, checkFiles: opts.checkFiles ?? false });
  if (problems.length > 0) throw new ManifestError(abs, problems);
  writeJsonAtomic(abs, manifest);
}

/** A copy of the manifest with the sha256 of every reconstruction file filled in (files relative to baseDir). */
export function withChecksums(manifest: CohortManifest, baseDir: string): CohortManifest {
  return {
    ...manifest,
    reconstructions: manifest.reconstructions.map((r, i) => {
      const abs = path.resolve(baseDir, r.path);
      if (!fs.existsSync(abs)) throw new Error(`withChecksums: reconstructions[${i}].path: file not found (${abs})`);
      return { ...r, sha256: fileDigest(abs, 'sha256') };
    }),
  };
}
