import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'notebooks');

/** Runs `tsx scripts/notebooks.ts run ...` as users do; returns exit code and output. */
function runNotebooks(args: string[], timeoutMs: number): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/notebooks.ts', 'run', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, PRESET: 'smoke' },
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('notebooks: headless runner', function () {
  this.timeout(10 * 60_000);
  let out: string;
  before(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-nb-'))));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('fails on the broken fixture, naming the notebook and the failing cell', () => {
    const r = runNotebooks(['broken', '--dir', FIXTURES, '--out', out], 5 * 60_000);
    assert.strictEqual(r.status, 1, r.out);
    assert.match(r.out, /FAILED broken\.ipynb: cell 3 \(code cell 2/);
    assert.match(r.out, /deliberate failure in the broken fixture/);
    // the executed copy is kept for inspection; the committed fixture stays without outputs
    assert.ok(fs.existsSync(path.join(out, 'broken.ipynb')));
    const committed = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'broken.ipynb'), 'utf8'));
    assert.ok(committed.cells.every((c: { outputs?: unknown[] }) => !c.outputs || c.outputs.length === 0));
  });

  it('runs a passing notebook, whose figure output is one plotly + PNG + text bundle', () => {
    const r = runNotebooks(['ok', '--dir', FIXTURES, '--out', out], 5 * 60_000);
    assert.strictEqual(r.status, 0, r.out);
    const nb = JSON.parse(fs.readFileSync(path.join(out, 'ok.ipynb'), 'utf8'));
    const outputs = nb.cells.flatMap((c: { outputs?: Array<{ output_type: string; data?: Record<string, unknown> }> }) => c.outputs ?? []);
    const display = outputs.find((o: { output_type: string }) => o.output_type === 'display_data');
    assert.ok(display, JSON.stringify(outputs).slice(0, 500));
    assert.deepStrictEqual(Object.keys(display.data).sort(), ['application/vnd.plotly.v1+json', 'image/png', 'text/plain']);
  });
});

describe('notebooks: committed notebooks', function () {
  // Every notebook, on the 'smoke' preset. Slow-ish (minutes): it may generate the smoke cohort and results.
  this.timeout(60 * 60_000);
  const dir = path.join(ROOT, 'notebooks');
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();

  it('are committed without outputs and open on the pet-iqa kernel', () => {
    assert.ok(names.length >= 6, names.join(', '));
    for (const n of names) {
      const nb = JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8'));
      assert.strictEqual(nb.metadata.kernelspec.name, 'pet-iqa', n);
      for (const c of nb.cells) if (c.cell_type === 'code') assert.deepStrictEqual([c.outputs, c.execution_count], [[], null], `${n} has outputs`);
      assert.strictEqual(nb.cells[0].cell_type, 'markdown', `${n} opens with prose`);
      assert.match(nb.cells[0].source.join(''), /\*\*Paper:\*\*/, `${n} says which part of the paper`);
    }
  });

  it('all run headless on PRESET=smoke', function () {
    // Opt-out for quick local loops only; CI runs it.
    if (process.env.PET_IQA_SKIP_NOTEBOOK_RUN === '1') this.skip();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-nb-all-'));
    try {
      const r = runNotebooks(['--out', out], 55 * 60_000);
      assert.strictEqual(r.status, 0, r.out);
      for (const n of names) assert.ok(fs.existsSync(path.join(out, n)), n);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
