import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../../lib/backbones';
import {
  cleanStaleDownloads,
  ensureImagenetWeights,
  readDownloadRecord,
  resolveWeights,
  saveKerasH5Weights,
  verifyWeights,
  weightsBasename,
} from '../../lib/weights';
import { tempDir } from './fixtures';

/** Routes of the local weights server: the first path segment picks the behaviour, the rest is Keras's storage path. */
type Route = (res: http.ServerResponse) => void;

function startServer(routes: Record<string, Route>): Promise<{ base: (route: string) => string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    hits.push(url);
    const route = routes[url.split('/')[1]];
    if (route) route(res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  const guard = setTimeout(() => server.close(), 120000);
  guard.unref();
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        base: (route) => `http://127.0.0.1:${port}/${route}/`,
        hits,
        close: () =>
          new Promise<void>((r) => {
            clearTimeout(guard);
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Writes half of `body` and then drops the connection. */
const cutHalfway = (body: Buffer, headers: http.OutgoingHttpHeaders): Route => (res) => {
  res.writeHead(200, headers);
  res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
};

describe('weights: downloads as Keras does (local server)', function () {
  this.timeout(120000);
  let tmp: ReturnType<typeof tempDir>;
  let mobilenet: Buffer;
  let otherBackbone: Buffer;
  let srv: Awaited<ReturnType<typeof startServer>>;
  const noWeightsDir = () => path.join(tmp.dir, 'no-weights-dir');

  before(async () => {
    await tf.setBackend('cpu');
    tmp = tempDir('download');
    // Files with exactly the layouts Keras's MobileNet and MobileNetV3Small files have (seeded values).
    for (const [name, file] of [['MobileNet', 'mobilenet.h5'], ['MobileNetV3Small', 'v3small.h5']] as const) {
      const m = buildBackbone(name, { inputSize: 80, seed: 1 });
      await saveKerasH5Weights(m, path.join(tmp.dir, file));
      m.dispose();
    }
    mobilenet = fs.readFileSync(path.join(tmp.dir, 'mobilenet.h5'));
    otherBackbone = fs.readFileSync(path.join(tmp.dir, 'v3small.h5'));
    srv = await startServer({
      good: (res) => {
        res.writeHead(200, { 'Content-Length': mobilenet.length });
        res.end(mobilenet);
      },
      // Chunked, properly ended, but only the first half of the file: only the HDF5 check can tell.
      'truncated-no-length': (res) => {
        res.writeHead(200);
        res.end(mobilenet.subarray(0, mobilenet.length >> 1));
      },
      'cut-no-length': cutHalfway(mobilenet, {}),
      'cut-with-length': cutHalfway(mobilenet, { 'Content-Length': mobilenet.length }),
      other: (res) => {
        res.writeHead(200, { 'Content-Length': otherBackbone.length });
        res.end(otherBackbone);
      },
      'any-bytes': (res) => {
        const body = Buffer.from('not the VGG16 file\n'.repeat(100));
        res.writeHead(200, { 'Content-Length': body.length });
        res.end(body);
      },
      // Accepts the connection and never answers: a black-holed server.
      silent: () => undefined,
    });
  });
  after(async () => {
    await srv.close();
    tmp.cleanup();
  });

  it('downloads a missing file without a published md5 (MobileNet) with progress, checks its layout, records its sha256 and loads it', async () => {
    const cacheDir = path.join(tmp.dir, 'good');
    const lines: string[] = [];
    const r = await resolveWeights('MobileNet', { cacheDir, weightsDir: noWeightsDir(), download: { enabled: true, baseUrl: srv.base('good') }, warn: (m) => lines.push(m) });
    const file = path.join(cacheDir, 'mobilenet_1_0_224_tf_no_top.h5');
    const sha256 = crypto.createHash('sha256').update(mobilenet).digest('hex');
    assert.equal(r.file, file);
    assert.deepEqual(r.provenance, { kind: 'imagenet', file, sha256, md5: crypto.createHash('md5').update(mobilenet).digest('hex') });
    assert.ok(fs.readFileSync(file).equals(mobilenet));
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), ['mobilenet_1_0_224_tf_no_top.h5', 'mobilenet_1_0_224_tf_no_top.h5.pet-iqa.json']);
    assert.equal(readDownloadRecord(file)?.checked, 'layout');
    assert.match(lines[0], /^MobileNet: ImageNet weights not in the cache; downloading http:\/\/127\.0\.0\.1:\d+\/good\/mobilenet\/mobilenet_1_0_224_tf_no_top\.h5$/);
    // Progress without a TTY: a line per quarter, the last one complete.
    const total = (mobilenet.length / 1e6).toFixed(1);
    assert.ok(lines.includes(`MobileNet: downloaded ${total} of ${total} MB`), lines.join('\n'));
    assert.equal(lines[lines.length - 1], `MobileNet: saved ${file}`);
    assert.ok(!lines.some((l) => /WARNING/.test(l)));

    // verify reports the recorded sha256, and notices a changed file.
    const st = verifyWeights('MobileNet', { cacheDir, weightsDir: noWeightsDir() });
    assert.equal(st.status, 'sha256 ok');
    assert.equal(st.recordedSha256, sha256);
    const hits = srv.hits.length;
    assert.equal((await resolveWeights('MobileNet', { cacheDir, weightsDir: noWeightsDir(), download: { enabled: true, baseUrl: srv.base('good') }, warn: () => undefined })).file, file);
    assert.equal(srv.hits.length, hits, 'a cached file is not downloaded again');
    const changed = Buffer.from(mobilenet);
    changed[changed.length - 1] ^= 0xff;
    fs.writeFileSync(file, changed);
    assert.equal(verifyWeights('MobileNet', { cacheDir, weightsDir: noWeightsDir() }).status, 'sha256 mismatch');
  });

  /** ensureImagenetWeights from `route` into a fresh cache: the location, the warnings, the cache folder's contents. */
  async function attempt(name: 'MobileNet' | 'VGG16', route: string, extra: { connectTimeoutMs?: number } = {}) {
    const cacheDir = path.join(tmp.dir, `${route}-${name}`);
    const warnings: string[] = [];
    const loc = (await ensureImagenetWeights([name], { cacheDir, weightsDir: noWeightsDir(), seed: 3, download: { enabled: true, baseUrl: srv.base(route), ...extra }, warn: (m) => warnings.push(m) })).get(name)!;
    const banners = warnings.filter((w) => w.includes('WARNING: no ImageNet weights'));
    return { loc, banners, cache: fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : [] };
  }

  it('wrong md5 (VGG16): rejected, cache left clean, one banner with the reason, random init', async () => {
    const { loc, banners, cache } = await attempt('VGG16', 'any-bytes');
    assert.equal(loc.file, undefined);
    assert.deepEqual(cache, []);
    assert.equal(banners.length, 1);
    assert.match(banners[0], /VGG16: vgg16\/.*: Download of VGG16 weights from .* is corrupt: md5 [0-9a-f]{32}, expected 6d6bbae143d832006294945121d1f1fc; nothing was written/);
    assert.match(banners[0], /RANDOM initialisation \(seed 3\)/);
    const r = await resolveWeights('VGG16', { seed: 3, located: loc });
    assert.deepEqual(r.provenance, { kind: 'random init', seed: 3 });
  });

  it('connection cut mid-body, with or without Content-Length: rejected, cache left clean', async () => {
    const withLength = await attempt('MobileNet', 'cut-with-length');
    assert.match(withLength.loc.failure ?? '', /was cut after \d+ bytes of \d+/);
    assert.deepEqual(withLength.cache, []);
    const noLength = await attempt('MobileNet', 'cut-no-length');
    assert.match(noLength.loc.failure ?? '', /was cut after \d+ bytes \(the server gave no Content-Length\)/);
    assert.deepEqual(noLength.cache, []);
  });

  it('no published md5: a truncated body without Content-Length, or another backbone\'s file, is rejected by the structural check', async () => {
    const truncated = await attempt('MobileNet', 'truncated-no-length');
    assert.match(truncated.loc.failure ?? '', /was rejected \(Keras publishes no md5 for it, so it was checked structurally\): the download is truncated: \d+ bytes, but its HDF5 superblock declares \d+/);
    assert.deepEqual(truncated.cache, []);
    const other = await attempt('MobileNet', 'other');
    assert.match(other.loc.failure ?? '', /was rejected .*: the download is not MobileNet's weights file: layer with weights #0 is 'Conv', MobileNet has 'conv1'/);
    assert.deepEqual(other.cache, []);
    assert.equal(other.banners.length, 1);
  });

  it('unreachable (refused, or no answer within the connect timeout): fails fast, asks once, one banner for all backbones, random init', async () => {
    const cacheDir = path.join(tmp.dir, 'offline');
    for (const [baseUrl, connectTimeoutMs, reason] of [
      ['http://127.0.0.1:1/', undefined, /ECONNREFUSED/],
      [srv.base('silent'), 300, /no answer within 300 ms/],
    ] as const) {
      const warnings: string[] = [];
      const hits = srv.hits.length;
      const t0 = Date.now();
      const located = await ensureImagenetWeights(['MobileNet', 'MobileNetV2', 'VGG16'], { cacheDir, weightsDir: noWeightsDir(), download: { enabled: true, baseUrl, connectTimeoutMs }, warn: (m) => warnings.push(m) });
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      assert.ok(srv.hits.length - hits <= 1, 'the server is asked once');
      const banners = warnings.filter((w) => w.includes('WARNING'));
      assert.equal(banners.length, 1);
      assert.match(banners[0], /WARNING: no ImageNet weights for MobileNet, MobileNetV2, VGG16: the download server cannot be reached \(offline\?\)/);
      assert.match(banners[0], reason);
      assert.match(banners[0], /npm run weights -- fetch MobileNet MobileNetV2 VGG16/);
      assert.ok([...located.values()].every((l) => l.file === undefined && l.unreachable));
      assert.deepEqual(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : [], []);
    }
  });

  it('removes stale temporary files of a killed download at the next start, keeping live ones and others\' files', async () => {
    const cacheDir = path.join(tmp.dir, 'stale');
    fs.mkdirSync(cacheDir);
    const base = weightsBasename('MobileNet');
    // A pid that cannot be running (above Linux's pid_max), one that is (this process), and a file that is not ours.
    const stale = `.${base}.4999999.1700000000000.tmp`;
    const live = `.${base}.${process.pid}.${Date.now()}.tmp`;
    const foreign = '.something-else.h5.4999999.1.tmp';
    for (const f of [stale, live, foreign]) fs.writeFileSync(path.join(cacheDir, f), 'partial');
    const warnings: string[] = [];
    await ensureImagenetWeights(['MobileNet'], { cacheDir, weightsDir: noWeightsDir(), download: { enabled: false }, warn: (m) => warnings.push(m) });
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), [foreign, live].sort());
    assert.match(warnings[0], new RegExp(`removed 1 stale temporary file\\(s\\) of interrupted downloads: .*${stale.replace(/\./g, '\\.')}`));
    assert.deepEqual(cleanStaleDownloads(cacheDir), []);
  });
});
