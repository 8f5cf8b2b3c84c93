import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readNpy, writeNpy } from '../../lib/io/npy';
import { saveKerasH5Weights } from '../../lib/weights';
import { runFeatures, type FeaturesOpts } from '../../scripts/features';
import { maxAbsDiff, tempDir, tinyModel } from './fixtures';

const ROOT = path.resolve(__dirname, '..', '..');

/** The environment without weight-location overrides, so the CLI sees only the test's folders. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['PET_IQA_KERAS_CACHE', 'PET_IQA_WEIGHTS_DIR', 'PET_IQA_WEIGHTS_BASE_URL']) delete env[k];
  return env;
}

/** Runs a script with tsx asynchronously (a server in this process must keep answering). */
function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT, timeout: 60000, env: cleanEnv() }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('features command and weights CLI', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    await tf.setBackend('cpu');
    tmp = tempDir('features');
  });
  after(() => tmp.cleanup());

  const opts = (o: Partial<FeaturesOpts>): FeaturesOpts => ({ backbone: 'VGG16', weights: { kind: 'random' }, input: '', out: path.join(tmp.dir, 'y.npy'), batch: '2', seed: '0', backend: 'cpu', json: false, ...o });

  it('runs the base model in batches on an .npy batch (float64 converted) and writes float32 .npy', async () => {
    const src = tinyModel(41);
    const file = path.join(tmp.dir, 'w.h5');
    await saveKerasH5Weights(src, file);
    const weights = { kind: 'file' as const, path: file };
    const n = 5;
    const x64 = Float64Array.from({ length: n * 8 * 8 * 3 }, (_, i) => Math.cos(i * 0.11));
    const input = path.join(tmp.dir, 'x.npy');
    // A float64 .npy as NumPy writes it: header with '<f8'.
    const f32 = Float32Array.from(x64);
    writeNpy(input, { data: f32, shape: [n, 8, 8, 3] });
    const bytes = fs.readFileSync(input);
    const off = bytes.length - f32.byteLength;
    const header = bytes.subarray(0, off).toString('latin1').replace("'<f4'", "'<f8'");
    fs.writeFileSync(input, Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(x64.buffer)]));

    const res = await runFeatures(opts({ input, weights }), { build: () => tinyModel(42) });
    assert.deepEqual(res.shape, [n, 3]);
    const y = readNpy(path.join(tmp.dir, 'y.npy'));
    assert.deepEqual(y.shape, [n, 3]);
    const expected = tf.tidy(() => (src.predict(tf.tensor4d(f32, [n, 8, 8, 3])) as tf.Tensor).dataSync() as Float32Array);
    assert.ok(maxAbsDiff(y.data, expected) < 1e-6, `max diff ${maxAbsDiff(y.data, expected)}`);

    const mid = await runFeatures(opts({ input, weights, layer: 'sep', out: path.join(tmp.dir, 'mid.npy') }), { build: () => tinyModel(44) });
    assert.deepEqual(mid.shape, [n, 8, 8, 5]);
    await assert.rejects(runFeatures(opts({ input, weights, layer: 'nope' }), { build: () => tinyModel(45) }), /--layer: VGG16 has no layer 'nope'/);
  });

  it('rejects inputs of the wrong rank, channel count or spatial size, naming the file and shapes', async () => {
    const bad = (name: string, shape: number[]) => {
      const f = path.join(tmp.dir, name);
      writeNpy(f, { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
      return f;
    };
    await assert.rejects(runFeatures(opts({ input: bad('r3.npy', [8, 8, 3]) }), { build: () => tinyModel(43) }), /r3\.npy: expected an NHWC batch of rank 4 \[N, H, W, 3\], got shape \[8, 8, 3\]/);
    await assert.rejects(runFeatures(opts({ input: bad('c1.npy', [2, 8, 8, 1]) }), { build: () => tinyModel(43) }), /c1\.npy: VGG16 takes 3 channels \(NHWC, channels last\), the input has 1/);
    await assert.rejects(runFeatures(opts({ input: bad('s6.npy', [2, 6, 6, 3]) }), { build: () => tinyModel(43) }), /s6\.npy: images are 6 x 6 x 3 but the VGG16 model takes \[8, 8, 3\]/);
    await assert.rejects(runFeatures(opts({ input: bad('ok.npy', [2, 8, 8, 3]), backbone: 'VGG17' }), { build: () => tinyModel(43) }), /Unknown backbone 'VGG17'/);
    assert.equal(fs.existsSync(path.join(tmp.dir, 'y.npy')), true, 'the earlier output stays untouched');
  });

  it('CLI: features exits 2 on bad usage and 1 with the message on bad input; weights fetch/verify against a local server', async () => {
    const usage = await runScript('features.ts', ['--backbone', 'VGG16']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /required option '--input <file>' not specified/);
    const r3 = path.join(tmp.dir, 'cli_r3.npy');
    writeNpy(r3, { data: new Float32Array(12), shape: [2, 2, 3] });
    const bad = await runScript('features.ts', ['--backbone', 'VGG16', '--input', r3, '--out', path.join(tmp.dir, 'o.npy')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /features: .*cli_r3\.npy: expected an NHWC batch of rank 4/);
    assert.equal(bad.stdout, '');

    const body = Buffer.from('fixture standing in for the VGG16 notop weights\n'.repeat(1000));
    const md5 = crypto.createHash('md5').update(body).digest('hex');
    const server = http.createServer((req, res) => {
      if (req.url === '/root/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5') {
        res.writeHead(200, { 'Content-Length': body.length });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const guard = setTimeout(() => server.close(), 60000);
    guard.unref();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/root/`;
      const cache = path.join(tmp.dir, 'cache');
      const fetched = await runScript('weights.ts', ['fetch', 'VGG16', '--cache', cache, '--base-url', base, '--md5', md5, '--json']);
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.equal(JSON.parse(fetched.stdout).results[0].path, path.join(cache, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'));
      const wrong = await runScript('weights.ts', ['verify', 'VGG16', 'VGG19', '--cache', cache]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /1 missing: VGG19/);
      assert.match(wrong.stderr, /VGG16: md5 [0-9a-f]{32} of .* differs from Keras's 6d6bbae143d832006294945121d1f1fc/);
      const failed = await runScript('weights.ts', ['fetch', 'VGG19', '--cache', cache, '--base-url', base]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /VGG19: FAILED: Cannot download .*HTTP 404/);
      assert.deepEqual(fs.readdirSync(cache).sort(), ['vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5.pet-iqa.json']);
    } finally {
      clearTimeout(guard);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
