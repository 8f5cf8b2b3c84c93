import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mapInWorkers, TaskPool } from '../../lib/util/workers';

type Task = { kind: 'square'; n: number } | { kind: 'fail' } | { kind: 'exit' };

/** A worker module written by the test: squares numbers (reporting progress), fails or exits on demand. */
function writeFixtureWorker(dir: string): string {
  const file = path.join(dir, 'fixture-worker.ts');
  const lib = JSON.stringify(path.resolve(__dirname, '../../lib/util/workers'));
  fs.writeFileSync(
    file,
    `import { threadId } from 'worker_threads';
const { serveTasks } = require(${lib});
serveTasks(__filename, (data: { failSetup?: boolean; tag: string }) => {
  if (data.failSetup) throw new Error('no model file');
  return {
    info: { tag: data.tag, threadId },
    handle(task: any, progress: (p: number) => void) {
      if (task.kind === 'fail') throw new Error('task failed: bad input');
      if (task.kind === 'exit') process.exit(3);
      progress(1);
      progress(2);
      return { square: task.n * task.n, threadId };
    },
  };
});
`,
  );
  return file;
}

describe('util/workers (TaskPool, serveTasks, mapInWorkers)', function () {
  this.timeout(30000);
  let dir = '';
  let file = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-workers-'));
    file = writeFixtureWorker(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs tasks on every worker, reports ready info and progress, answers each task', async () => {
    const pool = new TaskPool<Task, { square: number; threadId: number }, number, { tag: string; threadId: number }>(file, { workers: 2, workerData: { tag: 'a' } });
    try {
      const infos = await pool.ready();
      assert.deepEqual(infos.map((i) => i.tag), ['a', 'a']);
      assert.equal(new Set(infos.map((i) => i.threadId)).size, 2);
      const progress: number[][] = [[], [], [], [], [], []];
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n, i) => pool.run({ kind: 'square', n }, { onProgress: (p) => progress[i].push(p) })));
      assert.deepEqual(results.map((r) => r.square), [1, 4, 9, 16, 25, 36]);
      assert.deepEqual(progress, Array.from({ length: 6 }, () => [1, 2]));
      // Both workers took tasks.
      assert.equal(new Set(results.map((r) => r.threadId)).size, 2);
    } finally {
      await pool.close();
    }
  });

  it('a task that throws rejects with its message (prefixed by the label); the pool keeps working', async () => {
    const pool = new TaskPool<Task, { square: number }>(file, { workers: 1, workerData: { tag: 'b' }, label: 'fixture worker' });
    try {
      await assert.rejects(pool.run({ kind: 'fail' }), (e: Error) => {
        assert.equal(e.message, 'fixture worker 0: task failed: bad input');
        assert.match(e.stack ?? '', /fixture-worker\.ts/);
        return true;
      });
      assert.equal((await pool.run({ kind: 'square', n: 7 })).square, 49);
    } finally {
      await pool.close();
    }
  });

  it('a failed set-up rejects ready() and every task, naming the worker', async () => {
    const pool = new TaskPool<Task, unknown>(file, { workers: 1, workerData: { tag: 'c', failSetup: true }, label: 'model worker' });
    try {
      const pending = pool.run({ kind: 'square', n: 2 });
      await assert.rejects(pool.ready(), /^Error: model worker 0 failed to start: no model file/);
      await assert.rejects(pending, /model worker 0 failed to start: no model file/);
      await assert.rejects(pool.run({ kind: 'square', n: 3 }), /failed to start/);
    } finally {
      await pool.close();
    }
  });

  it('a worker that exits breaks the pool: pending tasks reject with its exit code', async () => {
    const pool = new TaskPool<Task, unknown>(file, { workers: 1, workerData: { tag: 'd' } });
    try {
      await assert.rejects(pool.run({ kind: 'exit' }), /worker 0 exited \(code 3\)/);
      await assert.rejects(pool.run({ kind: 'square', n: 2 }), /worker 0 exited \(code 3\)/);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.run({ kind: 'square', n: 2 }), /exited|closed/);
  });

  it('mapInWorkers returns results in task order, calls onResult once per task, and rejects on the first failure', async () => {
    const seen: number[] = [];
    const out = await mapInWorkers<Task, { square: number }>(file, [3, 1, 2].map((n) => ({ kind: 'square', n })), { workers: 2, workerData: { tag: 'e' }, onResult: (_r, i) => seen.push(i) });
    assert.deepEqual(out.map((r) => r.square), [9, 1, 4]);
    assert.deepEqual(seen.sort(), [0, 1, 2]);
    await assert.rejects(mapInWorkers<Task, unknown>(file, [{ kind: 'square', n: 1 }, { kind: 'fail' }], { workers: 2, workerData: { tag: 'f' } }), /task failed: bad input/);
    assert.deepEqual(await mapInWorkers(file, []), []);
  });

  it('mapInWorkers passes each task progress report with its index, and names a failed task', async () => {
    const progress: Array<[number, number]> = [];
    await mapInWorkers<Task, unknown, number>(file, [4, 5].map((n) => ({ kind: 'square', n })), { workers: 1, workerData: { tag: 'h' }, onProgress: (p, i) => progress.push([i, p]) });
    assert.deepEqual(progress, [[0, 1], [0, 2], [1, 1], [1, 2]]);
    await assert.rejects(
      mapInWorkers<Task, unknown>(file, [{ kind: 'fail' }], { workers: 1, workerData: { tag: 'i' }, taskName: (t, i) => `task ${i} (${t.kind})` }),
      (e: Error) => e.message === 'task 0 (fail): task failed: bad input' && /fixture-worker\.ts/.test(e.stack ?? ''),
    );
  });

  it('only the module the pool started serves: a worker module it imports stays silent', async () => {
    const cubes = path.join(dir, 'cube-worker.ts');
    fs.writeFileSync(
      cubes,
      `require(${JSON.stringify(file)});
const { serveTasks } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/util/workers'))});
serveTasks(__filename, () => ({ handle: (task: { n: number }) => ({ cube: task.n ** 3 }) }));
`,
    );
    const pool = new TaskPool<{ n: number }, { cube?: number; square?: number }>(cubes, { workers: 1, workerData: { tag: 'g' } });
    try {
      assert.deepEqual(await Promise.all([2, 3].map((n) => pool.run({ n }))), [{ cube: 8 }, { cube: 27 }]);
    } finally {
      await pool.close();
    }
  });

  it('refuses a worker count that is not a positive integer', () => {
    assert.throws(() => new TaskPool(file, { workers: 0 }), /TaskPool: workers must be an integer >= 1, got 0/);
  });
});
