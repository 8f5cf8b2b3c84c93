/**
 * Verifying the sha256 of a manifest's reconstruction files, with a small cache so a re-run does
 * not re-hash: a file whose size and modification time (nanoseconds) are those recorded when it
 * was last hashed is taken to have the recorded digest. The cache is a convenience, never an
 * input: a missing, unreadable or invalid cache file is ignored and rebuilt.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod/v4';
import { fileDigest, projectRoot, writeJsonAtomic } from '../util/files';

export const CHECKSUM_CACHE_SCHEMA_ID = 'pet-iqa/checksum-cache@1';

const checksumCacheSchema = z.strictObject({
  schema: z.literal(CHECKSUM_CACHE_SCHEMA_ID),
  /** Absolute file path -> what it was when hashed. */
  entries: z.record(
    z.string(),
    z.strictObject({
      size: z.number().int().nonnegative(),
      /** fs.Stats mtimeNs as a decimal string (bigint precision). */
      mtimeNs: z.string().regex(/^\d+$/),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});
type ChecksumCacheFile = z.infer<typeof checksumCacheSchema>;

/** Default cache file: `<project>/results/cache/checksums.json`. */
export function defaultChecksumCacheFile(): string {
  return path.join(projectRoot(), 'results', 'cache', 'checksums.json');
}

/** sha256 of files, remembered by absolute path, size and mtime. */
export class ChecksumCache {
  private entries: ChecksumCacheFile['entries'] = {};
  private dirty = false;
  /** Files hashed (cache misses) since this cache was opened. */
  hashed = 0;

  /** `file` null: a cache in memory only. */
  constructor(readonly file: string | null) {
    if (!file) return;
    try {
      const parsed = checksumCacheSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
      if (parsed.success) this.entries = parsed.data.entries;
    } catch {
      /* no cache yet, or unreadable: start empty */
    }
  }

  /** The sha256 of a file's bytes, from the cache when its size and mtime are unchanged. */
  sha256(file: string): string {
    const abs = path.resolve(file);
    const st = fs.statSync(abs, { bigint: true });
    const size = Number(st.size);
    const mtimeNs = st.mtimeNs.toString();
    const hit = this.entries[abs];
    if (hit && hit.size === size && hit.mtimeNs === mtimeNs) return hit.sha256;
    const sha256 = fileDigest(abs, 'sha256');
    this.hashed++;
    this.entries[abs] = { size, mtimeNs, sha256 };
    this.dirty = true;
    return sha256;
  }

  /** Writes the cache (atomically) when it changed, dropping entries of files that no longer exist. */
  save(): void {
    if (!this.file || !this.dirty) return;
    for (const f of Object.keys(this.entries)) if (!fs.existsSync(f)) delete this.entries[f];
    try {
      writeJsonAtomic(this.file, { schema: CHECKSUM_CACHE_SCHEMA_ID, entries: this.entries } satisfies ChecksumCacheFile);
      this.dirty = false;
    } catch {
      /* a read-only results folder only costs a re-hash next time */
    }
  }
}
