import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { anyInt, fraction, nonNegativeInt, port, positiveInt, positiveIntList, positiveNumber } from '../../lib/util/cli';
import { projectRoot } from '../../lib/util/files';

function runScript(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(projectRoot(), 'scripts', script), ...args], { timeout: 120000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

describe('util/cli: numeric command-line values', function () {
  this.timeout(180000);

  it('parsers accept what they should and reject the rest with a clear reason', () => {
    assert.equal(positiveInt('3'), 3);
    for (const bad of ['abc', '-1', '0', '1.5', '', ' ', '1e400', 'NaN']) assert.throws(() => positiveInt(bad), /^InvalidArgumentError: must be a positive integer \(1, 2, \.\.\.\)$/, bad);
    assert.equal(nonNegativeInt('0'), 0);
    assert.throws(() => nonNegativeInt('-1'), /must be an integer >= 0/);
    assert.equal(anyInt('-7'), -7);
    assert.throws(() => anyInt('7.5'), /must be an integer/);
    assert.equal(positiveNumber('0.125'), 0.125);
    assert.throws(() => positiveNumber('Infinity'), /must be a number > 0/);
    assert.equal(fraction('1'), 1);
    assert.throws(() => fraction('1.5'), /must be a number in \(0, 1\]/);
    assert.equal(port('8888'), 8888);
    assert.throws(() => port('70000'), /must be a port number 1-65535/);
    assert.deepEqual(positiveIntList('1,2'), [1, 2]);
    assert.throws(() => positiveIntList('1,x'), /must be comma-separated positive integers/);
  });

  it("reproduce --max-runs abc / -1 and patches --keep 0 stop before doing anything, naming the option", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-')), 'study');
    const [abc, neg, keep] = await Promise.all([
      runScript('reproduce.ts', ['--preset', 'smoke', '--out', out, '--max-runs', 'abc']),
      runScript('reproduce.ts', ['--preset', 'smoke', '--out', out, '--max-runs', '-1']),
      runScript('patches.ts', ['--manifest', path.join(out, 'none.json'), '--keep', '0']),
    ]);
    assert.equal(abc.code, 1);
    assert.equal(abc.stderr.trim(), "error: option '--max-runs <m>' argument 'abc' is invalid. must be a positive integer (1, 2, ...)");
    assert.equal(neg.code, 1);
    assert.equal(neg.stderr.trim(), "error: option '--max-runs <m>' argument '-1' is invalid. must be a positive integer (1, 2, ...)");
    assert.equal(keep.code, 1);
    assert.equal(keep.stderr.trim(), "error: option '--keep <n>' argument '0' is invalid. must be a positive integer (1, 2, ...)");
    assert.equal(fs.existsSync(out), false, 'nothing written');
  });
});
