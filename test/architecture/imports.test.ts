/**
 * lib/ has no import cycles (madge, counting type-only imports too) and no lazy in-project
 * `require`: lazy loading is kept for optional native packages, the browser and heavy optional
 * packages only (the allowlist below names each and why).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import madge from 'madge';

const ROOT = path.resolve(__dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');

async function cyclesOf(dir: string): Promise<string[][]> {
  const res = await madge(dir, { fileExtensions: ['ts'], tsConfig: path.join(ROOT, 'tsconfig.json') });
  return res.circular();
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The lazy `require`s lib/ may keep: file -> what it loads, and why lazily. */
const ALLOWED_REQUIRES: Record<string, string[]> = {
  'backend/select.ts': ['path.dirname', "'@tensorflow/tfjs-backend-wasm'"], // optional native bindings; wasm only when chosen
  'backend/wasm-gradient-kernels.ts': ["'@tensorflow/tfjs-backend-wasm'"], // registers kernels only when the wasm backend runs
  'accel/graph.ts': ['path.join', 'dir'], // tfjs-node's protobuf classes and loadSavedModel, only on the native backend
  'figures/table.ts': ["'danfojs-node'"], // heavy, brings its own tfjs; only for DataFrame output
  'study/summary.ts': ["'danfojs-node'"], // same, with a plain-CSV fallback
  'study/explore.ts': ["'danfojs-node'"], // the notebooks' MAE DataFrame
  'figures/show.ts': ["'tslab/dist/jupyter'"], // only inside a Jupyter kernel
  'figures/render.ts': ["'playwright-core'"], // the headless browser, when PNG/SVG are asked for
  'io/nifti.ts': ['entry'], // nifti-reader-js is ESM-only: its entry file is loaded by path
  'study/jobs.ts': ['ctx.builderModule'], // a caller-chosen module of backbone builders (test doubles)
};

describe('lib/ imports', function () {
  this.timeout(300000);

  it('madge reports a cycle in a two-file fixture (the check can fail)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-cycle-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = () => b;\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "import type { a } from './a';\nexport const b = 1 as unknown as typeof a;\n");
      assert.deepStrictEqual(await cyclesOf(dir), [['a.ts', 'b.ts']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lib/ has no import cycles (madge --circular)', async () => {
    const cycles = await cyclesOf(LIB);
    assert.deepStrictEqual(cycles, [], `import cycles in lib/:\n${cycles.map((c) => '  ' + c.join(' -> ')).join('\n')}`);
  });

  it('lib/ has no lazy in-project require; the lazy package loads are the allowlisted ones', () => {
    const found: Record<string, string[]> = {};
    for (const file of tsFiles(LIB)) {
      const rel = path.relative(LIB, file).split(path.sep).join('/');
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (/^\s*(\/\/|\*)/.test(line)) continue;
        for (const m of line.matchAll(/\brequire\(\s*([^\s,()]+)/g)) (found[rel] ??= []).push(m[1]);
      }
    }
    const inProject = Object.entries(found).flatMap(([f, args]) => args.filter((a) => /^['"]\./.test(a)).map((a) => `${f}: require(${a})`));
    assert.deepStrictEqual(inProject, [], 'in-project modules must be imported statically');
    assert.deepStrictEqual(found, ALLOWED_REQUIRES);
  });
});
