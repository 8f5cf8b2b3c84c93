/**
 * lib/util/cache: entries round-trip, sidecars are checked (file and field in the error), an entry
 * is complete only with its arrays, and Python opens the arrays with numpy.load (Debian's
 * /usr/bin/python3 + python3-numpy, installed by scripts/setup.sh with python3-nibabel).
 */
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { CacheEntryError, cacheEntryFiles, hasCacheEntry, readCacheEntry, writeCacheEntry } from '../../lib/util/cache';

const PYTHON = '/usr/bin/python3';
const metaSchema = z.object({ label: z.string(), rows: z.number().int() });

describe('util/cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-cache-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const a = { data: Float32Array.from([1, 2.5, -3, 4, 5, 6]), shape: [2, 3] };
  const b = { data: Float32Array.from([0.125, NaN]), shape: [2, 1] };

  it('round-trips metadata and arrays; several arrays get numbered .npy files', () => {
    assert.strictEqual(readCacheEntry(dir, 'k', metaSchema), null);
    assert.strictEqual(hasCacheEntry(dir, 'k', metaSchema), false);
    writeCacheEntry(dir, 'k', { label: 'x', rows: 2 }, [a, b]);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['k.0.npy', 'k.1.npy', 'k.json']);
    assert.strictEqual(hasCacheEntry(dir, 'k', metaSchema), true);
    const back = readCacheEntry(dir, 'k', metaSchema)!;
    assert.deepStrictEqual(back.meta, { label: 'x', rows: 2 });
    assert.deepStrictEqual(back.arrays[0].shape, [2, 3]);
    assert.deepStrictEqual(Array.from(back.arrays[0].data), [1, 2.5, -3, 4, 5, 6]);
    assert.ok(Number.isNaN(back.arrays[1].data[1]) && back.arrays[1].data[0] === 0.125);
    writeCacheEntry(dir, 'one', { label: 'y', rows: 2 }, [a]);
    assert.deepStrictEqual(cacheEntryFiles(dir, 'one', 1).arrays, [path.join(dir, 'one.npy')]);
    assert.ok(fs.existsSync(path.join(dir, 'one.npy')));
  });

  it('a sidecar of ours that fails its schema names the file and the field; other JSON is a miss', () => {
    writeCacheEntry(dir, 'k', { label: 'x', rows: 2 }, [a]);
    const side = path.join(dir, 'k.json');
    const json = JSON.parse(fs.readFileSync(side, 'utf8'));
    fs.writeFileSync(side, JSON.stringify({ ...json, meta: { label: 'x', rows: 'two' } }));
    assert.throws(() => readCacheEntry(dir, 'k', metaSchema), (e: Error) => e instanceof CacheEntryError && e.message.includes(side) && e.message.includes("field 'meta.rows'"));
    assert.strictEqual(hasCacheEntry(dir, 'k', metaSchema), false);
    fs.writeFileSync(side, JSON.stringify({ format: 1, rows: 2 })); // an older layout: rebuilt, not an error
    assert.strictEqual(readCacheEntry(dir, 'k', metaSchema), null);
  });

  it('an entry whose array is missing or truncated is not complete', () => {
    writeCacheEntry(dir, 'k', { label: 'x', rows: 2 }, [a, b]);
    const f = path.join(dir, 'k.1.npy');
    fs.truncateSync(f, fs.statSync(f).size - 4);
    assert.strictEqual(hasCacheEntry(dir, 'k', metaSchema), false);
    assert.throws(() => readCacheEntry(dir, 'k', metaSchema), /k\.1\.npy: data has \d+ bytes but shape \(2, 1\)/);
    fs.rmSync(f);
    assert.throws(() => readCacheEntry(dir, 'k', metaSchema), /lists k\.1\.npy, which is missing/);
  });

  it('Python reads the sidecar with json and the arrays with numpy.load', function () {
    const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`${PYTHON} cannot import numpy (${probe.stderr.trim()}); run \`bash scripts/setup.sh\` (python3-nibabel brings python3-numpy)`);
    writeCacheEntry(dir, 'k', { label: 'x', rows: 2 }, [a, b]);
    const script = [
      'import json, sys, os, numpy',
      'd = sys.argv[1]',
      "side = json.load(open(os.path.join(d, 'k.json')))",
      "arrs = [numpy.load(os.path.join(d, e['file'])) for e in side['arrays']]",
      "print(json.dumps({'meta': side['meta'], 'dtypes': [str(x.dtype) for x in arrs], 'shapes': [list(x.shape) for x in arrs], 'a': arrs[0].tolist(), 'b0': float(arrs[1][0, 0]), 'bnan': bool(numpy.isnan(arrs[1][1, 0]))}))",
    ].join('\n');
    const out = JSON.parse(execFileSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' }));
    assert.deepStrictEqual(out, { meta: { label: 'x', rows: 2 }, dtypes: ['float32', 'float32'], shapes: [[2, 3], [2, 1]], a: [[1, 2.5, -3], [4, 5, 6]], b0: 0.125, bnan: true });
  });
});
