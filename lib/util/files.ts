import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Makes `file` atomically: `fn` writes a temporary file in the same folder (its path is passed),
 * which is renamed over `file` once `fn` returns (or its promise resolves), so a crash or kill
 * never leaves a half-written file under the real name. On failure the temporary file is removed.
 */
export function withAtomicTarget<T>(file: string, fn: (tmp: string) => T): T {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const commit = <V>(value: V): V => {
    fs.renameSync(tmp, file);
    return value;
  };
  const discard = (err: unknown): never => {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* the temporary file may not exist */
    }
    throw err;
  };
  try {
    const out = fn(tmp);
    return out instanceof Promise ? (out.then(commit).catch(discard) as T) : commit(out);
  } catch (err) {
    return discard(err);
  }
}

/** Writes a file atomically (see withAtomicTarget). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  withAtomicTarget(file, (tmp) => fs.writeFileSync(tmp, data));
}

/** JSON with two-space indentation and a trailing newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Hex digest of a file's bytes. */
export function fileDigest(file: string, algorithm: 'sha256' | 'md5' = 'sha256'): string {
  return crypto.createHash(algorithm).update(fs.readFileSync(file)).digest('hex');
}

/** Hex digest of a string or bytes. */
export function digest(data: string | Uint8Array, algorithm: 'sha256' | 'md5' = 'sha256'): string {
  return crypto.createHash(algorithm).update(data).digest('hex');
}

/** Digest of a JSON value with object keys sorted, so equal content gives an equal key. */
export function stableHash(value: unknown): string {
  return digest(stableStringify(value));
}

/** JSON.stringify with object keys sorted recursively. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(ArrayBuffer.isView(value))) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      out[k] = sortKeys((value as Record<string, unknown>)[k]);
    }
    return out;
  }
  return value;
}

/** The folder that holds the workspace's package.json (works from lib/, scripts/ and notebooks/). */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'pet-iqa') return dir;
      } catch {
        /* keep looking upwards */
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`projectRoot: no pet-iqa package.json above ${__dirname}`);
    dir = parent;
  }
}
