/**
 * `npm run params`: the CLI's JSON output and the library table it prints.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

function runParams(args: string[]): string {
  return execFileSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/params.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, PET_IQA_BACKEND: 'cpu' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('scripts/params', function () {
  this.timeout(180000);

  it('--json prints one row per requested backbone with the Table II count', () => {
    const rows = JSON.parse(runParams(['--json', '--backbones', 'VGG16,DenseNet121']));
    assert.deepStrictEqual(rows, [
      {
        backbone: 'VGG16',
        layers: 19,
        totalParams: 14720835,
        flattenSize: 2048,
        trainableFrozen: 6147,
        trainablePartial: 12985347,
        frozenLayersPartial: 11,
        tableIITrainable: 6147,
      },
      {
        backbone: 'DenseNet121',
        layers: 427,
        totalParams: 7049795,
        flattenSize: 4096,
        trainableFrozen: 12291,
        trainablePartial: 3811075,
        frozenLayersPartial: 256,
        tableIITrainable: 12291,
      },
    ]);
  });

  it('prints a readable table without --json and refuses an unknown backbone', () => {
    const out = runParams(['--backbones', 'VGG19']);
    assert.match(out, /VGG19\s+22\s+13\s+20,030,531\s+2,048\s+6,147\s+ok\s+16,524,803/);
    assert.throws(() => runParams(['--backbones', 'VGG11']), /Unknown backbone 'VGG11'/);
  });
});
