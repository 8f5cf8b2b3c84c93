/**
 * The one on-disk cache format of the project (patches, frozen features and activations, scoring
 * references): an entry `<dir>/<key>` is zero or more float32 arrays saved as NumPy `.npy` files
 * (`<key>.npy`, or `<key>.0.npy`, `<key>.1.npy`, ... when there are several) and a JSON sidecar
 * `<key>.json` holding the entry's metadata. The sidecar is written last, so a sidecar only exists
 * next to complete arrays, and it is checked with zod on every read.
 *
 * From Python: `json.load(open(key + '.json'))` and `numpy.load(key + '.npy')`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { decodeNpy, parseNpyHeader, writeNpy, type NpyArray } from '../io/npy';
import { writeJsonAtomic } from './files';

/** Schema tag of a cache sidecar. */
export const CACHE_SCHEMA = 'pet-iqa/cache@1';

const arrayEntry = z.object({ file: z.string().min(1), dtype: z.literal('<f4'), shape: z.array(z.number().int().nonnegative()) });

/** The sidecar of a cache entry; `meta` is checked by the caller's schema. */
const sidecarSchema = z.object({
  schema: z.literal(CACHE_SCHEMA),
  key: z.string().min(1),
  arrays: z.array(arrayEntry),
  meta: z.unknown(),
});

/** A cache entry's sidecar that does not pass its schema; the message names the file and the field. */
export class CacheEntryError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`cache entry ${file}: ${problem}; delete it to rebuild`);
    this.name = 'CacheEntryError';
  }
}

/** The files of an entry with `count` arrays. */
export function cacheEntryFiles(dir: string, key: string, count: number): { sidecar: string; arrays: string[] } {
  return {
    sidecar: path.join(dir, `${key}.json`),
    arrays: Array.from({ length: count }, (_, i) => path.join(dir, count === 1 ? `${key}.npy` : `${key}.${i}.npy`)),
  };
}

function describeIssue(issue: z.ZodIssue, prefix: string): string {
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return `field '${field || '(root)'}': ${issue.message}`;
}

/**
 * The sidecar of `key` in `dir` with its metadata checked by `metaSchema`, or null when there is no
 * sidecar or it belongs to another layout (no `schema` tag of ours: an older cache, rebuilt).
 * Throws CacheEntryError (file and field) when a sidecar of ours does not pass the schema.
 */
export function readCacheSidecar<M>(dir: string, key: string, metaSchema: z.ZodType<M>): { meta: M; arrays: Array<z.infer<typeof arrayEntry>> } | null {
  const file = path.join(dir, `${key}.json`);
  if (!fs.existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CacheEntryError(file, `invalid JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || (raw as { schema?: unknown }).schema !== CACHE_SCHEMA) return null;
  const env = sidecarSchema.safeParse(raw);
  if (!env.success) throw new CacheEntryError(file, describeIssue(env.error.issues[0], ''));
  if (env.data.key !== key) throw new CacheEntryError(file, `field 'key' is ${JSON.stringify(env.data.key)}, expected ${JSON.stringify(key)}`);
  const meta = metaSchema.safeParse(env.data.meta);
  if (!meta.success) throw new CacheEntryError(file, describeIssue(meta.error.issues[0], 'meta'));
  return { meta: meta.data, arrays: env.data.arrays };
}

/** Reads an entry: its checked metadata and its arrays, or null when absent (see readCacheSidecar). */
export function readCacheEntry<M>(dir: string, key: string, metaSchema: z.ZodType<M>): { meta: M; arrays: NpyArray[] } | null {
  const side = readCacheSidecar(dir, key, metaSchema);
  if (!side) return null;
  const arrays = side.arrays.map((a) => {
    const file = path.join(dir, a.file);
    if (!fs.existsSync(file)) throw new CacheEntryError(path.join(dir, `${key}.json`), `lists ${a.file}, which is missing`);
    const arr = decodeNpy(fs.readFileSync(file), file);
    if (arr.shape.join('x') !== a.shape.join('x')) throw new CacheEntryError(file, `shape (${arr.shape.join(', ')}) differs from the sidecar's (${a.shape.join(', ')})`);
    return arr;
  });
  return { meta: side.meta, arrays };
}

/**
 * True when an entry is complete (a valid sidecar, and every array file has the header and size the
 * sidecar says), without reading the array data.
 */
export function hasCacheEntry<M>(dir: string, key: string, metaSchema: z.ZodType<M>): boolean {
  try {
    const side = readCacheSidecar(dir, key, metaSchema);
    if (!side) return false;
    return side.arrays.every((a) => {
      const file = path.join(dir, a.file);
      if (!fs.existsSync(file)) return false;
      const fd = fs.openSync(file, 'r');
      try {
        const head = Buffer.alloc(4096);
        const n = fs.readSync(fd, head, 0, head.length, 0);
        const h = parseNpyHeader(head.subarray(0, n), file);
        const size = h.shape.reduce((x, y) => x * y, 1);
        return h.descr === '<f4' && h.shape.join('x') === a.shape.join('x') && fs.fstatSync(fd).size === h.dataOffset + size * 4;
      } finally {
        fs.closeSync(fd);
      }
    });
  } catch {
    return false;
  }
}

/** Writes an entry: the arrays (.npy) first, then the sidecar, each atomically. */
export function writeCacheEntry<M>(dir: string, key: string, meta: M, arrays: NpyArray[] = []): void {
  const files = cacheEntryFiles(dir, key, arrays.length);
  arrays.forEach((a, i) => writeNpy(files.arrays[i], a));
  writeJsonAtomic(files.sidecar, {
    schema: CACHE_SCHEMA,
    key,
    arrays: arrays.map((a, i) => ({ file: path.basename(files.arrays[i]), dtype: '<f4', shape: a.shape })),
    meta,
  });
}
