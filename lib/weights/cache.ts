/**
 * Where Keras ImageNet weight files live on this machine, how to fetch them, and their provenance.
 *
 * Keras's get_file caches application weights as `~/.keras/models/<basename>`; we look there
 * (PET_IQA_KERAS_CACHE overrides the folder) and in a configured folder (PET_IQA_WEIGHTS_DIR).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import type { WeightsProvenance } from '../types';
import { withAtomicTarget } from '../util/files';
import { KERAS_WEIGHTS_BASE_URL, getBackboneSpec, type BackboneName } from '../backbones/registry';

/** Folders to look in; each defaults from the environment. */
export interface WeightsLocationOptions {
  /** Keras cache folder. Default: PET_IQA_KERAS_CACHE, else ~/.keras/models. */
  cacheDir?: string;
  /** Extra folder of weight files (flat or with the Keras storage subfolders). Default: PET_IQA_WEIGHTS_DIR. */
  weightsDir?: string;
}

/** The Keras cache folder in force. */
export function kerasCacheDir(cacheDir?: string): string {
  return cacheDir ?? process.env.PET_IQA_KERAS_CACHE ?? path.join(os.homedir(), '.keras', 'models');
}

/** The file name of a backbone's notop weights (Keras caches by basename). */
export function weightsBasename(name: BackboneName): string {
  return path.posix.basename(getBackboneSpec(name).weightsFile);
}

/** Looks for a backbone's notop weights; `searched` lists every path tried, in order. */
export function findWeights(name: BackboneName, opts: WeightsLocationOptions = {}): { path?: string; searched: string[] } {
  const spec = getBackboneSpec(name);
  const base = weightsBasename(name);
  const searched = [path.join(kerasCacheDir(opts.cacheDir), base)];
  const extra = opts.weightsDir ?? process.env.PET_IQA_WEIGHTS_DIR;
  if (extra) searched.push(path.join(extra, base), path.join(extra, ...spec.weightsFile.split('/')));
  const found = searched.find((p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
  return { path: found, searched };
}

/** md5, sha256 and size of a file, read in chunks (weight files reach ~230 MB). */
export function hashFileSync(file: string): { md5: string; sha256: string; size: number } {
  const md5 = crypto.createHash('md5');
  const sha = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 22);
  let size = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      md5.update(buf.subarray(0, n));
      sha.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex'), size };
}

/** Digests by path, size and mtime: a study loads the same 100-230 MB file for every run. */
const digestMemo = new Map<string, { md5: string; sha256: string }>();

/** Provenance of a weights file: its path, sha256 and md5. */
export function weightsProvenance(file: string): WeightsProvenance {
  const abs = path.resolve(file);
  const st = fs.statSync(abs);
  const key = `${abs}\0${st.size}\0${st.mtimeMs}`;
  let h = digestMemo.get(key);
  if (!h) {
    h = hashFileSync(abs);
    digestMemo.set(key, h);
  }
  return { kind: 'imagenet', file: abs, sha256: h.sha256, md5: h.md5 };
}

/** State of one backbone's weight file. */
export interface WeightsStatus {
  name: BackboneName;
  /** Path relative to the storage root. */
  weightsFile: string;
  path?: string;
  present: boolean;
  size?: number;
  md5?: string;
  sha256?: string;
  expectedMd5?: string;
  /** 'ok': md5 matches; 'no md5': Keras has none for this file; 'md5 mismatch'; 'missing'. */
  status: 'ok' | 'no md5' | 'md5 mismatch' | 'missing';
  searched: string[];
}

/** Finds a backbone's weights and checks the md5 that Keras checks. `hash: false` skips hashing. */
export function verifyWeights(name: BackboneName, opts: WeightsLocationOptions & { hash?: boolean; md5?: string } = {}): WeightsStatus {
  const spec = getBackboneSpec(name);
  const { path: p, searched } = findWeights(name, opts);
  const expectedMd5 = opts.md5 ?? spec.md5;
  const base = { name, weightsFile: spec.weightsFile, expectedMd5, searched };
  if (!p) return { ...base, present: false, status: 'missing' };
  const size = fs.statSync(p).size;
  if (opts.hash === false) return { ...base, path: p, present: true, size, status: expectedMd5 ? 'ok' : 'no md5' };
  const h = hashFileSync(p);
  const status = !expectedMd5 ? 'no md5' : h.md5 === expectedMd5 ? 'ok' : 'md5 mismatch';
  return { ...base, path: p, present: true, size, md5: h.md5, sha256: h.sha256, status };
}

/** Progress of a download. */
export interface FetchProgress {
  name: BackboneName;
  received: number;
  /** From Content-Length; undefined when the server does not say. */
  total?: number;
}

/** Options of fetchWeights. */
export interface FetchWeightsOptions {
  /** Storage root. Default: PET_IQA_WEIGHTS_BASE_URL, else KERAS_WEIGHTS_BASE_URL. */
  baseUrl?: string;
  /** Folder to store the file in (as its basename). Default: kerasCacheDir(). */
  cacheDir?: string;
  onProgress?: (p: FetchProgress) => void;
  /** Expected md5 instead of the registry's (null: check none). Default: the registry's md5. */
  md5?: string | null;
  /** Give up when no byte arrives for this long. Default 60000 ms. */
  idleTimeoutMs?: number;
  /** Redirects to follow. Default 5. */
  maxRedirects?: number;
}

/** The download URL of a backbone's weights. */
export function weightsUrl(name: BackboneName, baseUrl?: string): string {
  let root = baseUrl ?? process.env.PET_IQA_WEIGHTS_BASE_URL ?? KERAS_WEIGHTS_BASE_URL;
  if (!root.endsWith('/')) root += '/';
  return new URL(getBackboneSpec(name).weightsFile, root).toString();
}

/**
 * Downloads a backbone's notop weights into the cache and returns the path. The bytes go to a
 * temporary file in the cache folder, which is renamed only after the length and md5 check out, so
 * an interrupted or corrupt download leaves nothing in the cache.
 */
export async function fetchWeights(name: BackboneName, opts: FetchWeightsOptions = {}): Promise<string> {
  const spec = getBackboneSpec(name);
  const url = weightsUrl(name, opts.baseUrl);
  const dir = kerasCacheDir(opts.cacheDir);
  const target = path.join(dir, weightsBasename(name));
  const expectedMd5 = opts.md5 === undefined ? spec.md5 : (opts.md5 ?? undefined);
  await withAtomicTarget(target, async (tmp) => {
    const md5 = await download(url, tmp, {
      idleTimeoutMs: opts.idleTimeoutMs ?? 60000,
      maxRedirects: opts.maxRedirects ?? 5,
      onProgress: (received, total) => opts.onProgress?.({ name, received, total }),
    });
    if (expectedMd5 && md5 !== expectedMd5) {
      throw new Error(`Download of ${name} weights from ${url} is corrupt: md5 ${md5}, expected ${expectedMd5}; nothing was written to ${dir}`);
    }
  });
  return target;
}

/** Streams `url` to `file`, following redirects; resolves with the md5 of the bytes. */
function download(
  url: string,
  file: string,
  o: { idleTimeoutMs: number; maxRedirects: number; onProgress: (received: number, total?: number) => void },
  redirects = 0,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const u = new URL(url);
    const get = u.protocol === 'https:' ? https.get : u.protocol === 'http:' ? http.get : undefined;
    if (!get) return reject(new Error(`Cannot download ${url}: only http and https URLs are supported`));
    let settled = false;
    let out: fs.WriteStream | undefined;
    // Reject only once the file stream is closed, so the caller's cleanup cannot race its lazy open.
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      if (!out || out.closed) return reject(err);
      out.once('close', () => reject(err));
      out.destroy();
    };
    const req = get(u, (res) => {
      const code = res.statusCode ?? 0;
      if (code >= 300 && code < 400 && res.headers.location) {
        res.resume();
        if (redirects >= o.maxRedirects) return fail(new Error(`Cannot download ${url}: more than ${o.maxRedirects} redirects`));
        const next = new URL(res.headers.location, u).toString();
        settled = true;
        download(next, file, o, redirects + 1).then(resolve, reject);
        return;
      }
      if (code !== 200) {
        res.resume();
        return fail(new Error(`Cannot download ${url}: HTTP ${code} ${res.statusMessage ?? ''}`.trim()));
      }
      const lenHeader = res.headers['content-length'];
      const total = lenHeader !== undefined ? Number(lenHeader) : undefined;
      const hash = crypto.createHash('md5');
      out = fs.createWriteStream(file);
      let received = 0;
      out.on('error', (err) => {
        req.destroy();
        fail(new Error(`Cannot write ${file}: ${err.message}`));
      });
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        hash.update(chunk);
        o.onProgress(received, total);
      });
      res.on('error', (err) => fail(new Error(`Download of ${url} failed after ${received} bytes: ${err.message}`)));
      res.on('aborted', () => fail(new Error(`Download of ${url} was cut after ${received} bytes${total !== undefined ? ` of ${total}` : ''}`)));
      res.pipe(out);
      out.on('close', () => {
        if (settled) return;
        if (!res.complete || (total !== undefined && received !== total)) {
          return fail(new Error(`Download of ${url} was cut after ${received} bytes${total !== undefined ? ` of ${total}` : ''}`));
        }
        settled = true;
        resolve(hash.digest('hex'));
      });
    });
    req.setTimeout(o.idleTimeoutMs, () => {
      req.destroy(new Error(`no data for ${o.idleTimeoutMs} ms`));
    });
    req.on('error', (err) => fail(new Error(`Cannot download ${url}: ${err.message}`)));
  });
}
