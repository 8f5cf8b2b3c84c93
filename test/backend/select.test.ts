import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, currentBackend, initBackend, parseBackendName } from '../../lib/backend';
import { restoreBackendAfterSuite } from './helpers';

/** A folder holding node_modules/@tensorflow/tfjs-node with the given package.json and index.js. */
function fakeNativePackage(manifest: Record<string, unknown>, indexJs: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-backend-'));
  const dir = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ main: 'index.js', ...manifest }));
  fs.writeFileSync(path.join(dir, 'index.js'), indexJs);
  return root;
}

describe('backend/initBackend', function () {
  this.timeout(30000);
  restoreBackendAfterSuite();
  const made: string[] = [];
  after(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  it('lists the valid names in the error for an unknown name (argument and environment)', async () => {
    await assert.rejects(initBackend({ backend: 'tpu', env: {} }), /argument backend: unknown backend 'tpu'; valid names are gpu, node, wasm, cpu/);
    await assert.rejects(initBackend({ env: { PET_IQA_BACKEND: 'webgl' } }), /environment variable PET_IQA_BACKEND: unknown backend 'webgl'; valid names are gpu, node, wasm, cpu/);
    assert.deepEqual([...BACKEND_NAMES], ['gpu', 'node', 'wasm', 'cpu']);
    assert.equal(parseBackendName(' WASM ', 'x'), 'wasm');
  });

  it('PET_IQA_BACKEND forces a backend and the report says so', async () => {
    const choice = await initBackend({ env: { PET_IQA_BACKEND: 'wasm' } });
    assert.equal(choice.backend, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(choice.package, '@tensorflow/tfjs-backend-wasm');
    assert.equal(choice.reason, 'forced by PET_IQA_BACKEND=wasm');
    assert.deepEqual(choice.attempts.map((a) => [a.candidate, a.ok]), [['wasm', true]]);
    assert.equal(typeof choice.simd, 'boolean');
    assert.ok(choice.threads! >= 1);
    for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']) {
      assert.ok(choice.extraKernels!.includes(k), k);
      assert.ok(tf.getKernel(k, 'wasm'), k);
    }
    assert.equal(currentBackend(), choice);
  });

  it('the argument wins over the environment', async () => {
    const choice = await initBackend({ backend: 'cpu', env: { PET_IQA_BACKEND: 'wasm' } });
    assert.equal(choice.backend, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(choice.reason, "forced by argument backend='cpu' (overrides PET_IQA_BACKEND=wasm)");
  });

  it('is idempotent: the same request returns the same choice and re-activates it', async () => {
    const a = await initBackend({ backend: 'wasm', env: {} });
    await tf.setBackend('cpu');
    const b = await initBackend({ backend: 'wasm', env: {} });
    assert.equal(a, b);
    assert.equal(tf.getBackend(), 'wasm');
    const [c, d] = await Promise.all([initBackend({ backend: 'cpu', env: {} }), initBackend({ backend: 'cpu', env: {} })]);
    assert.equal(c, d);
  });

  it('automatic order tries gpu and node first and reports why they failed', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-backend-'));
    made.push(empty);
    const choice = await initBackend({ env: {}, nativeSearchPaths: [empty] });
    assert.deepEqual(choice.attempts.map((a) => a.candidate), ['gpu', 'node', 'wasm']);
    assert.deepEqual(choice.attempts.map((a) => a.ok), [false, false, true]);
    assert.match(choice.attempts[0].detail, /@tensorflow\/tfjs-node-gpu is not installed/);
    assert.match(choice.attempts[1].detail, /@tensorflow\/tfjs-node is not installed/);
    assert.equal(choice.backend, 'wasm');
    assert.match(choice.reason, /^automatic: first working of gpu, node, wasm, cpu: wasm \(@tensorflow\/tfjs-backend-wasm/);
  });

  it('forcing an uninstalled native backend fails clearly instead of falling back', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-backend-'));
    made.push(empty);
    await assert.rejects(
      initBackend({ backend: 'node', env: {}, nativeSearchPaths: [empty] }),
      /initBackend: backend 'node' \(forced by argument backend='node'\) is unavailable: @tensorflow\/tfjs-node is not installed/,
    );
  });

  it('rejects a module under the native name that is not the native binding (npm alias)', async () => {
    const root = fakeNativePackage({ name: '@tensorflow/tfjs', version: '4.21.0' }, 'module.exports = {};');
    made.push(root);
    await assert.rejects(
      initBackend({ backend: 'node', env: {}, nativeSearchPaths: [root] }),
      /the module found as @tensorflow\/tfjs-node is really @tensorflow\/tfjs 4\.21\.0, not the native binding/,
    );
  });

  it("rejects a package with the right name that does not register the 'tensorflow' backend", async () => {
    const root = fakeNativePackage({ name: '@tensorflow/tfjs-node', version: '4.22.0' }, 'module.exports = { fake: true };');
    made.push(root);
    await assert.rejects(
      initBackend({ backend: 'node', env: {}, nativeSearchPaths: [root] }),
      /@tensorflow\/tfjs-node 4\.22\.0 \(.*\) loaded but did not register the 'tensorflow' backend/,
    );
  });
});
