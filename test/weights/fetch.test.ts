import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { BACKBONES } from '../../lib/backbones/registry';
import { fetchWeights, findWeights, readDownloadRecord, verifyWeights, weightsProvenance, weightsUrl } from '../../lib/weights';
import { tempDir } from './fixtures';

/** A bounded local server: /good/<file> serves the fixture, /redirect/ redirects there, /cut/ drops the connection half-way. */
function startServer(body: Buffer): Promise<{ base: string; close: () => Promise<void>; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    hits.push(url);
    if (url.startsWith('/good/')) {
      res.writeHead(200, { 'Content-Length': body.length });
      res.end(body);
    } else if (url.startsWith('/redirect/')) {
      res.writeHead(302, { Location: url.replace('/redirect/', '/good/') });
      res.end();
    } else if (url.startsWith('/cut/')) {
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  // Never outlive the tests, even if they hang.
  const guard = setTimeout(() => server.close(), 60000);
  guard.unref();
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        base: `http://127.0.0.1:${port}`,
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

describe('weights/cache: find, fetch and verify weight files', () => {
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 2654435761) >>> 24;
  const md5 = crypto.createHash('md5').update(body).digest('hex');
  let srv: Awaited<ReturnType<typeof startServer>>;
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    srv = await startServer(body);
    tmp = tempDir('fetch');
  });
  after(async () => {
    await srv.close();
    tmp.cleanup();
  });

  it('downloads through a redirect into the cache by basename, verifies the md5 and reports progress', async () => {
    const cacheDir = path.join(tmp.dir, 'good');
    let last = 0;
    const file = await fetchWeights('VGG16', { baseUrl: `${srv.base}/redirect/`, cacheDir, md5, onProgress: (p) => (last = p.received) });
    assert.equal(file, path.join(cacheDir, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'));
    assert.ok(fs.readFileSync(file).equals(body));
    assert.equal(last, body.length);
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), ['vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5.pet-iqa.json']);
    assert.equal(readDownloadRecord(file)?.sha256, crypto.createHash('sha256').update(body).digest('hex'));
    assert.ok(srv.hits.includes('/good/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'));

    assert.equal(findWeights('VGG16', { cacheDir }).path, file);
    const st = verifyWeights('VGG16', { cacheDir, md5 });
    assert.equal(st.status, 'ok');
    assert.equal(st.size, body.length);
    // Against the registry's md5 the fixture is (rightly) not the real file.
    assert.equal(verifyWeights('VGG16', { cacheDir }).status, 'md5 mismatch');
    const prov = weightsProvenance(file);
    assert.equal(prov.kind, 'imagenet');
    assert.equal(prov.kind === 'imagenet' && prov.sha256, crypto.createHash('sha256').update(body).digest('hex'));
  });

  it('leaves the cache clean when the md5 is wrong', async () => {
    const cacheDir = path.join(tmp.dir, 'badmd5');
    await assert.rejects(
      fetchWeights('VGG16', { baseUrl: `${srv.base}/good`, cacheDir }),
      new RegExp(`Download of VGG16 weights from .* is corrupt: md5 ${md5}, expected ${BACKBONES.VGG16.md5}; nothing was written`),
    );
    assert.deepEqual(fs.readdirSync(cacheDir), []);
  });

  it('leaves the cache clean when the connection is cut mid-way', async () => {
    const cacheDir = path.join(tmp.dir, 'cut');
    await assert.rejects(fetchWeights('VGG16', { baseUrl: `${srv.base}/cut/`, cacheDir, md5 }), /Download of http:\/\/127\.0\.0\.1:\d+\/cut\/vgg16\/.* (was cut|failed) after \d+ bytes/);
    assert.deepEqual(fs.readdirSync(cacheDir), []);
  });

  it('reports HTTP errors and an unreachable server, leaving the cache clean', async () => {
    const cacheDir = path.join(tmp.dir, 'http');
    await assert.rejects(fetchWeights('VGG16', { baseUrl: `${srv.base}/missing/`, cacheDir }), /Cannot download .*\/missing\/vgg16\/.*: HTTP 404/);
    await assert.rejects(fetchWeights('VGG16', { baseUrl: 'http://127.0.0.1:1/', cacheDir }), /Cannot download http:\/\/127\.0\.0\.1:1\/vgg16\/.*ECONNREFUSED/);
    assert.deepEqual(fs.readdirSync(cacheDir), []);
  });

  it('searches the Keras cache, then the weights folder (flat or with the storage subfolder)', () => {
    const cacheDir = path.join(tmp.dir, 'nocache');
    const weightsDir = path.join(tmp.dir, 'wdir');
    fs.mkdirSync(path.join(weightsDir, 'resnet'), { recursive: true });
    const missing = findWeights('ResNet50', { cacheDir, weightsDir });
    assert.equal(missing.path, undefined);
    assert.deepEqual(missing.searched, [
      path.join(cacheDir, 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'),
      path.join(weightsDir, 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'),
      path.join(weightsDir, 'resnet', 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'),
    ]);
    assert.equal(verifyWeights('ResNet50', { cacheDir, weightsDir }).status, 'missing');
    fs.writeFileSync(missing.searched[2], 'x');
    assert.equal(findWeights('ResNet50', { cacheDir, weightsDir }).path, missing.searched[2]);
    assert.equal(verifyWeights('MobileNet', { cacheDir, weightsDir }).status, 'missing');
    assert.equal(weightsUrl('VGG16', 'http://h/root'), 'http://h/root/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5');
  });

  it('takes the cache folder, weights folder and base URL from the environment', () => {
    const saved = { ...process.env };
    try {
      process.env.PET_IQA_KERAS_CACHE = path.join(tmp.dir, 'envcache');
      process.env.PET_IQA_WEIGHTS_DIR = path.join(tmp.dir, 'envdir');
      process.env.PET_IQA_WEIGHTS_BASE_URL = 'http://mirror.invalid/keras';
      assert.deepEqual(findWeights('Xception').searched.slice(0, 2), [
        path.join(tmp.dir, 'envcache', 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5'),
        path.join(tmp.dir, 'envdir', 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5'),
      ]);
      assert.equal(weightsUrl('Xception'), 'http://mirror.invalid/keras/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5');
      delete process.env.PET_IQA_KERAS_CACHE;
      assert.match(findWeights('Xception').searched[0], /\.keras[\/\\]models[\/\\]xception_weights/);
    } finally {
      for (const k of ['PET_IQA_KERAS_CACHE', 'PET_IQA_WEIGHTS_DIR', 'PET_IQA_WEIGHTS_BASE_URL']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
