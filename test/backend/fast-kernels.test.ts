import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  FAST_KERNELS_ENV_VAR,
  FAST_KERNELS_TFJS_VERSION,
  FAST_KERNEL_MODULES,
  fastKernelVariant,
  fastKernelsDisabledReason,
  kernelBytes,
} from '../../lib/backend/fast-kernels';
import { assembleKernel, watSha256 } from '../../scripts/build-wasm';

const root = path.join(__dirname, '..', '..');

function hasWat2wasm(): boolean {
  try {
    execFileSync('wat2wasm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('backend/fast-kernels: one boundary, one switch, bytes from their sources', () => {
  for (const mod of FAST_KERNEL_MODULES) {
    it(`${mod.generated} was generated from the committed ${mod.wat} (recorded sha256)`, () => {
      const text = fs.readFileSync(path.join(root, mod.generated), 'utf8');
      const recorded = /_WAT_SHA256 = '([0-9a-f]{64})'/.exec(text)?.[1];
      assert.ok(recorded, `${mod.generated}: no recorded .wat sha256 (run npx tsx scripts/build-wasm.ts)`);
      const actual = crypto.createHash('sha256').update(fs.readFileSync(path.join(root, mod.wat))).digest('hex');
      assert.equal(actual, recorded, `${mod.wat} changed since ${mod.generated} was built: run npx tsx scripts/build-wasm.ts`);
      assert.equal(watSha256(mod), recorded);
    });

    (hasWat2wasm() ? it : it.skip)(`${mod.name}: the committed bytes of both builds are exactly what wat2wasm assembles`, () => {
      for (const variant of ['simd', 'relaxed'] as const) {
        const assembled = assembleKernel(mod, variant);
        assert.ok(Buffer.from(kernelBytes(mod.name, variant)).equals(assembled), `${mod.name} ${variant}: committed bytes differ from ${mod.wat}`);
      }
    });
  }

  it('the relaxed build uses f32x4.relaxed_madd and the plain build does not', () => {
    // 0xfd 0x85 0x02: relaxed_madd's opcode (LEB128 0x105).
    const has = (b: Uint8Array) => Buffer.from(b).includes(Buffer.from([0xfd, 0x85, 0x02]));
    for (const mod of FAST_KERNEL_MODULES) {
      assert.ok(has(kernelBytes(mod.name, 'relaxed')), `${mod.name} relaxed`);
      assert.ok(!has(kernelBytes(mod.name, 'simd')), `${mod.name} simd`);
    }
  });

  it(`the switch: ${FAST_KERNELS_ENV_VAR}=0 turns them off, simd keeps today's kernels, a bad value names the variable`, () => {
    assert.equal(fastKernelsDisabledReason({}, FAST_KERNELS_TFJS_VERSION), null);
    assert.equal(fastKernelsDisabledReason({ [FAST_KERNELS_ENV_VAR]: '0' }, FAST_KERNELS_TFJS_VERSION), `${FAST_KERNELS_ENV_VAR}=0`);
    assert.equal(fastKernelVariant({ [FAST_KERNELS_ENV_VAR]: '0' }), 'off');
    assert.equal(fastKernelVariant({ [FAST_KERNELS_ENV_VAR]: 'simd' }), 'simd');
    assert.throws(() => fastKernelsDisabledReason({ [FAST_KERNELS_ENV_VAR]: 'yes' }), /PET_IQA_FAST_KERNELS=yes: expected 0 \(off\), simd \(no relaxed SIMD\) or 1 \(on\)/);
  });

  it(`another tfjs-backend-wasm than ${FAST_KERNELS_TFJS_VERSION} turns them off, saying why`, () => {
    assert.equal(fastKernelsDisabledReason({}, '4.23.0'), `@tensorflow/tfjs-backend-wasm is 4.23.0; the fast kernels are tied to ${FAST_KERNELS_TFJS_VERSION}`);
    const installed = JSON.parse(fs.readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'), 'utf8')).version;
    assert.equal(installed, FAST_KERNELS_TFJS_VERSION, 'the workspace pins the version the kernels are tied to');
  });
});
