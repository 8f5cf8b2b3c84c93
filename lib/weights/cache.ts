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
import { withAtomicTarget, writeJsonAtomic } from '../util/files';
import { BACKBONES, KERAS_WEIGHTS_BASE_URL, getBackboneSpec, type BackboneName } from '../backbones/registry';

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

/**
 * What this project recorded when it downloaded a file into the cache (`<file>.pet-iqa.json` next
 * to it): its sha256 and how it was checked. Files Keras publishes no md5 for are identified by it.
 */
export interface DownloadRecord {
  backbone: BackboneName;
  url: string;
  size: number;
  sha256: string;
  md5: string;
  /** 'md5': Keras's md5 matched; 'layout': no md5 published, the backbone's layer names and weight shapes matched. */
  checked: 'md5' | 'layout';
  fetchedAt: string;
}

/** Where the download record of a cached weights file lives. */
export function downloadRecordPath(file: string): string {
  return `${file}.pet-iqa.json`;
}

/** The download record next to `file`, or undefined when there is none (or it is unreadable). */
export function readDownloadRecord(file: string): DownloadRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(downloadRecordPath(file), 'utf8')) as DownloadRecord;
    return typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256) ? r : undefined;
  } catch {
    return undefined;
  }
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
  /** sha256 recorded when this project downloaded the file (files without a published md5). */
  recordedSha256?: string;
  /**
   * 'ok': md5 matches; 'sha256 ok': no md5 published, sha256 equals the one recorded at download
   * (after the layout check); 'no md5': Keras has none and nothing was recorded (placed by hand or
   * by Keras); 'md5 mismatch'; 'sha256 mismatch': changed since the download; 'missing'.
   */
  status: 'ok' | 'sha256 ok' | 'no md5' | 'md5 mismatch' | 'sha256 mismatch' | 'missing';
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
  const recordedSha256 = expectedMd5 ? undefined : readDownloadRecord(p)?.sha256;
  if (opts.hash === false) return { ...base, path: p, present: true, size, recordedSha256, status: expectedMd5 ? 'ok' : recordedSha256 ? 'sha256 ok' : 'no md5' };
  const h = hashFileSync(p);
  const status = expectedMd5
    ? h.md5 === expectedMd5
      ? 'ok'
      : 'md5 mismatch'
    : recordedSha256
      ? h.sha256 === recordedSha256
        ? 'sha256 ok'
        : 'sha256 mismatch'
      : 'no md5';
  return { ...base, path: p, present: true, size, md5: h.md5, sha256: h.sha256, recordedSha256, status };
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
  /**
   * Check of a file that has no md5 to compare with, given the temporary file before it enters the
   * cache; throw to reject it. Default: none here (lib/weights resolveWeights and `npm run weights`
   * pass checkWeightsLayout: the backbone's layer names and weight shapes).
   */
  verify?: (tmpFile: string) => Promise<void>;
  /** Give up when the server has not answered (DNS, connect, TLS, headers) in this time. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Give up when no byte arrives for this long. Default 60000 ms. */
  idleTimeoutMs?: number;
  /** Redirects to follow. Default 5. */
  maxRedirects?: number;
}

/**
 * Why a download failed. 'unreachable': no answer from the server (DNS, refused, timeout: offline);
 * 'http': the server answered with an error status; 'incomplete': the body stopped short;
 * 'corrupt': complete, but the md5 or the layout check failed.
 */
export class WeightsDownloadError extends Error {
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'http' | 'incomplete' | 'corrupt',
  ) {
    super(message);
    this.name = 'WeightsDownloadError';
  }
}

/** The download URL of a backbone's weights. */
export function weightsUrl(name: BackboneName, baseUrl?: string): string {
  let root = baseUrl ?? process.env.PET_IQA_WEIGHTS_BASE_URL ?? KERAS_WEIGHTS_BASE_URL;
  if (!root.endsWith('/')) root += '/';
  return new URL(getBackboneSpec(name).weightsFile, root).toString();
}

/** Temporary files of withAtomicTarget: `.<basename>.<pid>.<ms>.tmp`. */
const TMP_PATTERN = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

/** A temporary file older than this is stale even when its pid runs (a reused pid, or another host). */
const STALE_TMP_MS = 24 * 3600 * 1000;

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files of interrupted downloads (a kill -9 mid-fetch) of weight files and their
 * records from `dir`: those whose process is gone, or older than a day. Returns the removed paths.
 */
export function cleanStaleDownloads(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const ours = new Set(Object.keys(BACKBONES).flatMap((n) => {
    const base = weightsBasename(n as BackboneName);
    return [base, path.basename(downloadRecordPath(base))];
  }));
  const removed: string[] = [];
  for (const f of names) {
    const m = TMP_PATTERN.exec(f);
    if (!m || !ours.has(m[1])) continue;
    const full = path.join(dir, f);
    try {
      const age = Date.now() - fs.statSync(full).mtimeMs;
      if (Number(m[2]) !== process.pid && (!pidRunning(Number(m[2])) || age > STALE_TMP_MS)) {
        fs.rmSync(full, { force: true });
        removed.push(full);
      }
    } catch {
      /* gone meanwhile */
    }
  }
  return removed;
}

/**
 * Downloads a backbone's notop weights into the cache and returns the path. The bytes go to a
 * temporary file in the cache folder, which is renamed only after the length and md5 (or, where
 * Keras publishes no md5, the `verify` check) pass, so an interrupted or wrong download leaves
 * nothing in the cache. Stale temporary files of earlier, killed downloads are removed first.
 * A download record (sha256, how it was checked) is written next to the file.
 */
export async function fetchWeights(name: BackboneName, opts: FetchWeightsOptions = {}): Promise<string> {
  const spec = getBackboneSpec(name);
  const url = weightsUrl(name, opts.baseUrl);
  const dir = kerasCacheDir(opts.cacheDir);
  const target = path.join(dir, weightsBasename(name));
  const expectedMd5 = opts.md5 === undefined ? spec.md5 : (opts.md5 ?? undefined);
  cleanStaleDownloads(dir);
  let record: DownloadRecord | undefined;
  await withAtomicTarget(target, async (tmp) => {
    const got = await download(url, tmp, {
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 60000,
      maxRedirects: opts.maxRedirects ?? 5,
      onProgress: (received, total) => opts.onProgress?.({ name, received, total }),
    });
    if (expectedMd5 && got.md5 !== expectedMd5) {
      throw new WeightsDownloadError(`Download of ${name} weights from ${url} is corrupt: md5 ${got.md5}, expected ${expectedMd5}; nothing was written to ${dir}`, 'corrupt');
    }
    if (!expectedMd5 && opts.verify) {
      try {
        await opts.verify(tmp);
      } catch (err) {
        const why = (err as Error).message.split(`Keras weights file ${tmp}`).join('the download').split(tmp).join('the download');
        throw new WeightsDownloadError(`Download of ${name} weights from ${url} was rejected (Keras publishes no md5 for it, so it was checked structurally): ${why}; nothing was written to ${dir}`, 'corrupt');
      }
    }
    record = { backbone: name, url, size: got.size, sha256: got.sha256, md5: got.md5, checked: expectedMd5 ? 'md5' : 'layout', fetchedAt: new Date().toISOString() };
  });
  if (record && (expectedMd5 || opts.verify)) writeJsonAtomic(downloadRecordPath(target), record);
  else fs.rmSync(downloadRecordPath(target), { force: true });
  return target;
}

/** Error codes that mean the server could not be reached at all. */
const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE', 'ENETDOWN', 'EADDRNOTAVAIL']);

/**
 * Streams `url` to `file`, following redirects; resolves with the digests and size of the bytes.
 * Complete means: Content-Length bytes when the server gives it, else a properly ended body
 * (chunked terminator); a connection dropped mid-body rejects either way.
 */
function download(
  url: string,
  file: string,
  o: { connectTimeoutMs: number; idleTimeoutMs: number; maxRedirects: number; onProgress: (received: number, total?: number) => void },
  redirects = 0,
): Promise<{ md5: string; sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const get = u.protocol === 'https:' ? https.get : u.protocol === 'http:' ? http.get : undefined;
    if (!get) return reject(new WeightsDownloadError(`Cannot download ${url}: only http and https URLs are supported`, 'http'));
    let settled = false;
    let answered = false;
    let out: fs.WriteStream | undefined;
    // Reject only once the file stream is closed, so the caller's cleanup cannot race its lazy open.
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      if (!out || out.closed) return reject(err);
      out.once('close', () => reject(err));
      out.destroy();
    };
    const connectTimer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${o.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), o.connectTimeoutMs);
    const req = get(u, (res) => {
      answered = true;
      clearTimeout(connectTimer);
      const code = res.statusCode ?? 0;
      if (code >= 300 && code < 400 && res.headers.location) {
        res.resume();
        if (redirects >= o.maxRedirects) return fail(new WeightsDownloadError(`Cannot download ${url}: more than ${o.maxRedirects} redirects`, 'http'));
        const next = new URL(res.headers.location, u).toString();
        settled = true;
        download(next, file, o, redirects + 1).then(resolve, reject);
        return;
      }
      if (code !== 200) {
        res.resume();
        return fail(new WeightsDownloadError(`Cannot download ${url}: HTTP ${code} ${res.statusMessage ?? ''}`.trim(), 'http'));
      }
      const lenHeader = res.headers['content-length'];
      const total = lenHeader !== undefined ? Number(lenHeader) : undefined;
      const md5 = crypto.createHash('md5');
      const sha256 = crypto.createHash('sha256');
      out = fs.createWriteStream(file);
      let received = 0;
      const cut = (): WeightsDownloadError =>
        new WeightsDownloadError(`Download of ${url} was cut after ${received} bytes${total !== undefined ? ` of ${total}` : ' (the server gave no Content-Length)'}`, 'incomplete');
      out.on('error', (err) => {
        req.destroy();
        fail(new Error(`Cannot write ${file}: ${err.message}`));
      });
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        md5.update(chunk);
        sha256.update(chunk);
        o.onProgress(received, total);
      });
      res.on('error', (err) => fail(new WeightsDownloadError(`Download of ${url} failed after ${received} bytes: ${err.message}`, 'incomplete')));
      res.on('aborted', () => fail(cut()));
      res.pipe(out);
      out.on('close', () => {
        if (settled) return;
        if (!res.complete || (total !== undefined && received !== total)) return fail(cut());
        settled = true;
        resolve({ md5: md5.digest('hex'), sha256: sha256.digest('hex'), size: received });
      });
    });
    req.setTimeout(o.idleTimeoutMs, () => {
      req.destroy(new Error(`no data for ${o.idleTimeoutMs} ms`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const unreachable = !answered && UNREACHABLE_CODES.has(err.code ?? '');
      fail(new WeightsDownloadError(`Cannot download ${url}: ${err.message}`, unreachable ? 'unreachable' : 'incomplete'));
    });
  });
}
