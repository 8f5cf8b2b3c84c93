import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { applyNativeEnvironment, describeBackend, initBackend, nativeThreadPlan } from '../../lib/backend';
import { nativeUnavailableReason } from '../support/backends';
import { restoreBackendAfterSuite } from './helpers';

describe('backend/native TensorFlow: threads, logs, version', () => {
  it("plans TensorFlow threads from the workers: one intra-op pool of all cores (TensorFlow's, per process), an inter-op thread per worker", () => {
    assert.deepEqual(nativeThreadPlan(1, 2), { intraOp: 2, interOp: 1 });
    assert.deepEqual(nativeThreadPlan(2, 2), { intraOp: 2, interOp: 2 });
    assert.deepEqual(nativeThreadPlan(3, 2), { intraOp: 2, interOp: 2 });
    assert.deepEqual(nativeThreadPlan(2, 8), { intraOp: 8, interOp: 2 });
    assert.deepEqual(nativeThreadPlan(0, 4), { intraOp: 4, interOp: 1 });
    assert.deepEqual(nativeThreadPlan(2, 0), { intraOp: 1, interOp: 1 });
  });

  it("sets TensorFlow's environment before it loads; what the user set wins", () => {
    const env: NodeJS.ProcessEnv = {};
    const plan = applyNativeEnvironment(2, env);
    assert.equal(env.TF_NUM_INTRAOP_THREADS, String(nativeThreadPlan(2).intraOp));
    assert.equal(env.TF_NUM_INTEROP_THREADS, String(nativeThreadPlan(2).interOp));
    assert.equal(env.TF_CPP_MIN_LOG_LEVEL, '2');
    assert.equal(env.TF_ENABLE_ONEDNN_OPTS, '0');
    assert.deepEqual(plan, nativeThreadPlan(2));
    const mine: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: '3', TF_CPP_MIN_LOG_LEVEL: '0', TF_ENABLE_ONEDNN_OPTS: '1' };
    assert.deepEqual(applyNativeEnvironment(1, mine), { intraOp: 3, interOp: 1 });
    assert.equal(mine.TF_NUM_INTRAOP_THREADS, '3');
    assert.equal(mine.TF_CPP_MIN_LOG_LEVEL, '0');
    assert.equal(mine.TF_ENABLE_ONEDNN_OPTS, '1');
  });

  describe('when the binding is built (scripts/native-tf.sh)', function () {
    this.timeout(60000);
    restoreBackendAfterSuite();
    const unavailable = nativeUnavailableReason();
    (unavailable ? it.skip : it)(`initBackend picks it by default and reports TensorFlow's version and threads${unavailable ? ` (${unavailable})` : ''}`, async () => {
      const choice = await initBackend({ env: {} });
      assert.equal(choice.backend, 'tensorflow');
      assert.equal(choice.candidate, 'node');
      assert.match(choice.tensorflow ?? '', /^2\.\d+\.\d+/);
      assert.ok((choice.threads ?? 0) >= 1);
      assert.match(describeBackend(choice), /^@tensorflow\/tfjs-node 4\.22\.0 on TensorFlow 2\.\d+\.\d+, \d+ intra-op thread\(s\)$/);
      // A ResNet50 stage-4 projection (512 -> 1024, 1 x 1, stride 2 at 4 x 4) crashes oneDNN's kernels; it runs here.
      const y = tf.tidy(() => tf.conv2d(tf.ones([2, 4, 4, 512]) as tf.Tensor4D, tf.fill([1, 1, 512, 1024], 0.5) as tf.Tensor4D, 2, 'valid').sum().dataSync()[0]);
      assert.equal(y, 2 * 2 * 2 * 1024 * 512 * 0.5);
    });
  });
});
