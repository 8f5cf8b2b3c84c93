/**
 * Benchmark (not a test): CPU seconds per epoch of the Dense(3) head trainer, plain JS (trainHead)
 * vs the WebAssembly SIMD kernel (lib/train/head_simd.ts), batch 10, 7,200 training rows.
 *
 *   npx tsx scripts/bench-head.ts [--dims 1024,4096,18432] [--rows 7200] [--epochs 3] [--val 720]
 *
 * The validation rows (first --val rows) are scored each epoch as in training. SIMD seconds exclude
 * the one-off copy of the matrix into wasm memory, which is printed separately.
 */
import * as head from '../lib/train/head';
import { HeadSimdTrainer } from '../lib/train/head_simd';
import { Rng } from '../lib/util/rng';
import { positiveInt, positiveIntList } from '../lib/util/cli';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/** The plain-JS trainer: trainHeadJs if head.ts dispatches trainHead to the SIMD kernel, else trainHead. */
const trainHead = (head as { trainHeadJs?: typeof head.trainHead }).trainHeadJs ?? head.trainHead;

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** A validated numeric argument: a clear message and exit code 2 instead of NaN rows or epochs. */
function checked<T>(name: string, dflt: string, parse: (v: string) => T): T {
  try {
    return parse(arg(name, dflt));
  } catch (err) {
    console.error(`bench-head: --${name} '${arg(name, dflt)}' ${(err as Error).message}`);
    process.exit(2);
  }
}

const dims = checked('dims', '1024,4096,18432', positiveIntList);
const rows = checked('rows', '7200', positiveInt);
const epochs = checked('epochs', '3', positiveInt);
const nVal = checked('val', '720', positiveInt);

console.log(`rows ${rows}, batch 10, ${epochs} epochs, ${nVal} validation rows; CPU seconds per epoch`);
console.log('dim      JS s/epoch   SIMD s/epoch   speed-up   (copy into wasm s)');
for (const dim of dims) {
  const rng = new Rng(dim);
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(0, 1);
  const labels = new Float32Array(rows * 3);
  for (let i = 0; i < labels.length; i++) labels[i] = rng.uniform(0, 1);
  const train = Int32Array.from({ length: rows }, (_, i) => i);
  const validation = Int32Array.from({ length: nVal }, (_, i) => i);
  const features = { data, rows, dim };
  const config = { epochs, learningRate: 1e-4, seed: 1 };
  let t = cpuSeconds();
  const js = trainHead({ features, labels, train, validation, config });
  const jsS = (cpuSeconds() - t) / epochs;
  t = cpuSeconds();
  const trainer = new HeadSimdTrainer(features, labels);
  const copyS = cpuSeconds() - t;
  t = cpuSeconds();
  const simd = trainer.train({ train, validation, config });
  const simdS = (cpuSeconds() - t) / epochs;
  const rel = Math.abs(simd.history[epochs - 1].loss - js.history[epochs - 1].loss) / js.history[epochs - 1].loss;
  console.log(
    `${String(dim).padEnd(8)} ${jsS.toFixed(3).padStart(10)} ${simdS.toFixed(3).padStart(14)} ${(jsS / simdS).toFixed(2).padStart(9)}x   (${copyS.toFixed(2)})  last-loss rel diff ${rel.toExponential(1)}`,
  );
}
