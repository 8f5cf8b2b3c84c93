/**
 * npm run -s bench -- --json [--backbones A,B] [--workers 2] [--no-paper]
 *
 * Prints one JSON object: backend; inference img/s per backbone (batch 32, 80x80, BN folded,
 * median after warm-up; single worker and the sum of `--workers` concurrent workers);
 * frozenEpoch (head epoch on cached features vs the naive loop that runs the backbone every epoch);
 * partialStep (one batch-10 training step of the cached suffix vs the whole model); peakRssMB;
 * and an extrapolation of the full 'paper' frozen study from timed head epochs.
 */
import * as os from 'os';
import { frozenLayerCount } from '../lib/backbones/transfer';
import { isMainThread } from 'worker_threads';
import { defaultWorkerCount, serveTasks, TaskPool } from '../lib/util/workers';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { initBackend } from '../lib/backend';
import { BACKBONE_NAMES, type BackboneName } from '../lib/backbones/registry';
import { attachHead, splitModel } from '../lib/train/graph';
import { trainHead, glorotDense } from '../lib/train/head';
import { KerasAdam } from '../lib/train/suffix';
import { fitHeadCost, flattenSize, paperFrozenRowEpochs } from '../lib/study/estimate';
import { Rng } from '../lib/util/rng';
import { compileForBackend, compileTrainStep, GraphUnsupportedError, type TrainStepGraph } from '../lib/accel';
import { positiveInt } from '../lib/util/cli';

type Build = (name: BackboneName, args: { inputSize?: number; seed?: number }) => tf.LayersModel;
const build = (): Build => (require('../lib/backbones') as { buildBackbone: Build }).buildBackbone;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Wall and CPU seconds of fn. The machine is shared (other jobs may hold the cores), so CPU seconds
 * of this process (one compute thread) are reported too: they estimate the unloaded wall time.
 */
function timed(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Images per second of the BN-folded base, batch 32, median of `reps` after 2 warm-ups. */
async function inferenceRate(name: BackboneName, reps: number, size = 80, seconds?: number, cpuOut?: { rate: number }): Promise<number> {
  const base = build()(name, { inputSize: size });
  // What the study's feature extraction runs: BN folded, activations fused, one graph on native (lib/accel).
  const fast = await compileForBackend(base);
  const x = tf.randomUniform([32, size, size, 3], -1, 1);
  const cpus: number[] = [];
  const once = () => {
    // Not tf.tidy(() => fast(x).dataSync()): tidy walks a returned typed array element by element
    // looking for tensors, which adds 0.1-0.3 s per batch of features.
    const t = timed(() => {
      const y = fast(x);
      y.dataSync();
      y.dispose();
    });
    cpus.push(t.cpu);
    return t.wall;
  };
  once();
  once();
  cpus.length = 0;
  const ts: number[] = [];
  // At least `reps` timings, and keep going until `seconds` have passed (so concurrent workers overlap).
  const end = seconds ? performance.now() + seconds * 1000 : 0;
  for (let i = 0; i < reps || performance.now() < end; i++) ts.push(once());
  x.dispose();
  fast.dispose();
  base.dispose();
  if (cpuOut) cpuOut.rate = 32 / median(cpus);
  return 32 / median(ts);
}

/** Seconds of one step: batch 10, MSE, Keras Adam; `model` trains its trainable weights. */
function stepSeconds(model: tf.LayersModel, xs: tf.Tensor[], reps: number, cpuOut?: { seconds: number }): number {
  const y = tf.randomUniform([10, 3], 0, 3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = new KerasAdam(vars, { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  const seconds = medianStepSeconds(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, model.apply(xs.length === 1 ? xs[0] : xs, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    opt.apply(vars.map((v) => grads[v.name]));
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  }, reps, cpuOut);
  opt.dispose();
  y.dispose();
  return seconds;
}

/** Median wall seconds of `reps` calls of step after one warm-up call (median CPU seconds into cpuOut). */
function medianStepSeconds(step: () => void, reps: number, cpuOut?: { seconds: number }): number {
  step();
  const runs = Array.from({ length: reps }, () => timed(step));
  if (cpuOut) cpuOut.seconds = median(runs.map((r) => r.cpu));
  return median(runs.map((r) => r.wall));
}

/**
 * Seconds of the same step as one TensorFlow graph (lib/accel/train_graph: what trainSuffix runs on
 * native), or null where it cannot run (not native, or a layer it has no gradient for).
 */
async function graphStepSeconds(model: tf.LayersModel, xs: tf.Tensor[], reps: number, cpuOut?: { seconds: number }): Promise<number | null> {
  if (tf.getBackend() !== 'tensorflow') return null;
  let graph: TrainStepGraph;
  try {
    graph = await compileTrainStep(model, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  } catch (err) {
    if (err instanceof GraphUnsupportedError) return null;
    throw err;
  }
  const y = tf.randomUniform([10, 3], 0, 3);
  const seconds = medianStepSeconds(() => graph.step(xs, y, 1e-4), reps, cpuOut);
  graph.dispose();
  y.dispose();
  return seconds;
}

/** Seconds per head epoch (train rows, 1800 validation rows) at feature size dim, measured over `epochs`. */
function headEpochSeconds(dim: number, trainRows: number, epochs = 3, cpuOut?: { seconds: number }): number {
  const valRows = 1800;
  const rows = trainRows + valRows;
  const rng = new Rng(1);
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = rng.next();
  const labels = new Float32Array(rows * 3);
  for (let i = 0; i < labels.length; i++) labels[i] = rng.int(7) / 2;
  const train = Int32Array.from({ length: trainRows }, (_, i) => i);
  const validation = Int32Array.from({ length: valRows }, (_, i) => trainRows + i);
  // Marginal cost of an epoch: (e epochs - 1 epoch) / (e - 1), so the one-off set-up of a run
  // (initial weights, Adam state) is not counted 1000 times.
  const run = (e: number) => {
    let seconds = 0;
    const t = timed(() => {
      seconds = trainHead({ features: { data, rows, dim }, labels, train, validation, init: glorotDense(dim, 3, 1), config: { epochs: e, patience: 0 } }).seconds;
    });
    return { seconds, cpu: t.cpu };
  };
  const e = Math.max(2, epochs);
  // trainHead copies a feature matrix into wasm memory on its first run only (a study trains many
  // heads on one matrix): make that copy before timing, so both timed runs exclude it.
  run(1);
  const one = run(1);
  const many = run(e);
  if (cpuOut) cpuOut.seconds = Math.max(0, many.cpu - one.cpu) / (e - 1);
  return Math.max(0, many.seconds - one.seconds) / (e - 1);
}

/** One bench worker's task: time a backbone's inference, or head epochs, while its sibling workers do the same. */
type BenchTask = ({ kind: 'rate' } & RateTask) | ({ kind: 'head' } & HeadTask);
interface RateTask {
  name: BackboneName;
  reps: number;
  seconds: number;
}
interface HeadTask {
  dim: number;
  trainRows: number;
  epochs: number;
}

serveTasks<BenchTask, number>(__filename, async () => {
  await initBackend();
  return {
    handle: (t) => {
      if (t.kind === 'rate') return inferenceRate(t.name, t.reps, 80, t.seconds);
      // Wall seconds: process.cpuUsage() in a worker thread counts the whole process (Node 20 has no
      // per-thread CPU time), and with one worker per core on an idle machine wall is the CPU time.
      return headEpochSeconds(t.dim, t.trainRows, t.epochs);
    },
  };
});

/** Each of k workers runs the same task at the same time; their results. */
async function concurrently(task: BenchTask, k: number): Promise<number[]> {
  const pool = new TaskPool<BenchTask, number>(__filename, { workers: k, label: 'bench worker' });
  try {
    // Every worker has its backend before any starts timing, and each takes one task.
    await pool.ready();
    return await Promise.all(Array.from({ length: k }, () => pool.run(task)));
  } finally {
    await pool.close();
  }
}

/** Sum of images per second of k workers running the same benchmark at the same time. */
async function concurrentRate(name: BackboneName, k: number, seconds: number): Promise<number> {
  const rates = await concurrently({ kind: 'rate', name, reps: 5, seconds }, k);
  return rates.reduce((a, b) => a + b, 0);
}

/**
 * Seconds per head epoch (marginal, over `epochs`) at Flatten dim with trainRows training rows: CPU
 * seconds for one worker; for k workers, the mean wall seconds of k workers side by side, as the
 * study runs its heads (they share memory bandwidth and caches; needs an otherwise idle machine).
 */
async function concurrentHeadEpochSeconds(dim: number, trainRows: number, epochs: number, k: number): Promise<number> {
  if (k <= 1) {
    const cpu = { seconds: 0 };
    headEpochSeconds(dim, trainRows, epochs, cpu);
    return cpu.seconds;
  }
  const seconds = await concurrently({ kind: 'head', dim, trainRows, epochs }, k);
  return seconds.reduce((a, b) => a + b, 0) / seconds.length;
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--json', 'print JSON only')
    .option('--backbones <list>', 'backbones (default ResNet50,DenseNet121,MobileNetV2)')
    .option('--workers <k>', 'concurrent workers for the aggregate inference rate', positiveInt, defaultWorkerCount())
    .option('--reps <n>', 'timed repetitions', positiveInt, 5)
    .option('--no-paper', 'skip the paper extrapolation (head epochs at every flatten size)')
    .option('--save', 'also write the timings `reproduce --plan` uses to results/bench/<backend>.json')
    .parse()
    .opts<{ json?: boolean; backbones?: string; workers: number; reps: number; paper: boolean; save?: boolean }>();
  const names = (o.backbones?.split(',') ?? ['ResNet50', 'DenseNet121', 'MobileNetV2']).map((s) => s.trim()) as BackboneName[];
  for (const n of names) if (!BACKBONE_NAMES.includes(n)) throw new Error(`unknown backbone ${n}; valid: ${BACKBONE_NAMES.join(', ')}`);
  // TensorFlow's threads as the study plans them for its workers (nativeThreadPlan).
  const choice = await initBackend({ workers: o.workers });
  const log = (s: string) => {
    if (!o.json) process.stderr.write(s + '\n');
  };
  const result: Record<string, unknown> = {
    backend: choice.backend,
    simd: choice.simd,
    threadsPerWorker: choice.threads,
    loadAverage: os.loadavg(),
    cpus: os.cpus().length,
  };
  const inference: Array<Record<string, unknown>> = [];
  const frozenEpoch: Array<Record<string, unknown>> = [];
  const partialStep: Array<Record<string, unknown>> = [];
  for (const name of names) {
    const cpuRate = { rate: 0 };
    const single = await inferenceRate(name, o.reps, 80, undefined, cpuRate);
    const multi = o.workers > 1 ? await concurrentRate(name, o.workers, Math.max(3, (32 * o.reps) / single)) : single;
    inference.push({ backbone: name, imagesPerSecond: multi, imagesPerSecondOneWorker: single, imagesPerCpuSecond: cpuRate.rate, workers: o.workers, batch: 32, inputSize: 80, bnFolded: true });
    log(`${name}: ${single.toFixed(1)} img/s (1 worker), ${multi.toFixed(1)} img/s (${o.workers} workers)`);

    // Frozen epoch at paper scale (n = 8: 7,200 training + 1,800 validation patches).
    const dim = flattenSize(name);
    const cachedCpu = { seconds: 0 };
    const cached = headEpochSeconds(dim, 7200, 1, cachedCpu);
    // Naive: every epoch runs the (unfolded) backbone on all 9,000 patches and trains the head through
    // the whole model; measured on a few batch-10 steps, scaled to 720 steps + validation inference.
    const base = build()(name, { inputSize: 80 });
    for (const l of base.layers) l.trainable = false;
    const whole = attachHead(base, { dense: tf.layers.dense({ units: 3, name: 'dense' }) });
    const x10 = tf.randomUniform([10, 80, 80, 3], -1, 1);
    const naiveCpu = { seconds: 0 };
    const naiveStep = stepSeconds(whole, [x10], Math.max(2, Math.floor(o.reps / 2)), naiveCpu);
    const naive = 720 * naiveStep + 1800 / single;
    frozenEpoch.push({ backbone: name, cachedSeconds: cached, naiveSeconds: naive, cachedCpuSeconds: cachedCpu.seconds, naiveCpuSeconds: 720 * naiveCpu.seconds + 1800 / cpuRate.rate, naiveStepSeconds: naiveStep, flattenSize: dim, note: 'naive = 720 measured batch-10 steps through the frozen backbone + 1,800 validation images at the inference rate' });
    log(`${name}: frozen epoch ${cached.toFixed(2)} s cached vs ${naive.toFixed(0)} s naive`);

    // Partial regime step (batch 10): cached suffix vs whole model with the frozen prefix in the loop.
    for (const l of base.layers) l.trainable = true;
    const k = frozenLayerCount(base.layers.length);
    const frozen = new Set(base.layers.slice(0, k));
    base.layers.forEach((l) => (l.trainable = !frozen.has(l)));
    const split = splitModel(whole, (l) => frozen.has(l));
    const acts = split.prefix.predict(x10);
    const sc = { seconds: 0 };
    const wc = { seconds: 0 };
    const cutActs = Array.isArray(acts) ? acts : [acts];
    const opByOpSeconds = stepSeconds(split.suffix, cutActs, o.reps, sc);
    // What the study runs: the suffix step as one TensorFlow graph on native, else op by op.
    const gc = { seconds: 0 };
    const graphSeconds = await graphStepSeconds(split.suffix, cutActs, o.reps, gc);
    const suffixSeconds = graphSeconds ?? opByOpSeconds;
    const wholeSeconds = stepSeconds(whole, [x10], Math.max(2, Math.floor(o.reps / 2)), wc);
    partialStep.push({
      backbone: name,
      suffixSeconds,
      wholeSeconds,
      suffixCpuSeconds: graphSeconds === null ? sc.seconds : gc.seconds,
      wholeCpuSeconds: wc.seconds,
      suffixStep: graphSeconds === null ? 'op-by-op' : 'tensorflow-graph',
      suffixOpByOpSeconds: opByOpSeconds,
      frozenLayers: k,
      baseLayers: base.layers.length,
      cut: split.cut.map((c) => `${c.name}:${c.shape.join('x')}`),
    });
    log(
      `${name}: partial step ${(suffixSeconds * 1000).toFixed(0)} ms suffix (${graphSeconds === null ? 'op by op' : `one TensorFlow graph; op by op ${(opByOpSeconds * 1000).toFixed(0)} ms`}) vs ${(wholeSeconds * 1000).toFixed(0)} ms whole (op by op)`,
    );
    tf.dispose([x10, ...(Array.isArray(acts) ? acts : [acts])]);
    whole.dispose();
  }
  result.inference = inference;
  result.frozenEpoch = frozenEpoch;
  result.partialStep = partialStep;

  if (o.paper) {
    // Paper frozen study: 18 backbones x (6 folds x n in {1,4,8} + 5 repeats x n in {1,4,8}), 1000 epochs.
    // Head epoch time is linear in the training rows (+ a validation term): measure at n = 1 and n = 8 per flatten size.
    const dims = [...new Set(BACKBONE_NAMES.map(flattenSize))].sort((a, b) => a - b);
    const perDim = new Map<number, { t1: number; t8: number }>();
    for (const d of dims) {
      // Seconds per worker, the workers training heads side by side as in the study. Marginal cost
      // over 8 epochs (9 minus 1): with fewer, timer and GC noise dominate small heads.
      perDim.set(d, { t1: await concurrentHeadEpochSeconds(d, 900, 9, o.workers), t8: await concurrentHeadEpochSeconds(d, 7200, 9, o.workers) });
      log(`head epoch at flatten ${d}: n=1 ${perDim.get(d)!.t1.toFixed(3)} s, n=8 ${perDim.get(d)!.t8.toFixed(3)} s`);
    }
    const at = (d: number, rows: number) => {
      const { t1, t8 } = perDim.get(d)!;
      return t1 + ((t8 - t1) * (rows - 900)) / (7200 - 900);
    };
    // 6 folds + 5 repeats at each n, 1000 epochs
    const headSecondsAt = (d: number) => [900, 3600, 7200].reduce((sum, rows) => sum + 11 * 1000 * at(d, rows), 0);
    const headSeconds = BACKBONE_NAMES.reduce((sum, b) => sum + headSecondsAt(flattenSize(b)), 0);
    const headCost = fitHeadCost(dims.map((dim) => ({ dim, secondsPerRowEpoch: headSecondsAt(dim) / paperFrozenRowEpochs() })));
    const workers = o.workers;
    const meanRate = (workers * inference.reduce((a, r) => a + (r.imagesPerCpuSecond as number), 0)) / inference.length;
    const extractSeconds = (18 * 11700) / meanRate;
    const total = headSeconds / workers + extractSeconds;
    result.paperFrozenEstimate = {
      runs: 594,
      epochs: 1000,
      headEpochSeconds: Object.fromEntries([...perDim].map(([d, v]) => [d, v])),
      headCpuHours: headSeconds / 3600,
      headCost,
      basis: `seconds per head epoch of each of ${o.workers} workers training side by side (wall; CPU seconds for 1 worker), n = 1 and n = 8, interpolated for n = 4; one core per worker`,
      workers,
      extractionHours: extractSeconds / 3600,
      extractionNote: `18 backbones x 11,700 patches at the mean measured rate of ${inference.map((r) => r.backbone).join(', ')}`,
      totalHours: total / 3600,
      targetHours: 8,
    };
    log(`paper frozen study: ~${(total / 3600).toFixed(1)} h with ${workers} workers (target 8 h)`);
  }
  result.peakRssMB = process.resourceUsage().maxRSS / 1024;
  if (o.save) {
    const file = saveBenchTimings(choice.backend, inference, partialStep, (result.paperFrozenEstimate as { headCost?: { perRow: number; perRowFeature: number } } | undefined)?.headCost);
    log(`timings for reproduce --plan written to ${file}`);
  }
  process.stdout.write(JSON.stringify(result, null, o.json ? 0 : 2) + '\n');
}

/**
 * The timings `reproduce --plan` reads (lib/study/estimate: BenchTimings): per-worker inference
 * rates (CPU-time based), batch-10 suffix steps, and the head's CPU seconds per row and per (row x
 * feature) fitted to the paper extrapolation's head epochs at each Flatten size when --paper ran (fitHeadCost).
 */
function saveBenchTimings(
  backend: string,
  inference: Array<Record<string, unknown>>,
  partialStep: Array<Record<string, unknown>>,
  headCost: { perRow: number; perRowFeature: number } | undefined,
): string {
  const { REFERENCE_TIMINGS } = require('../lib/study/estimate') as typeof import('../lib/study/estimate');
  const { writeJsonAtomic, projectRoot } = require('../lib/util/files') as typeof import('../lib/util/files');
  const path = require('path') as typeof import('path');
  const reference = REFERENCE_TIMINGS[backend === 'tensorflow' ? 'tensorflow' : 'wasm'];
  const timings = {
    source: `npm run bench -- --save, ${new Date().toISOString()}, load average ${os.loadavg()[0].toFixed(1)}`,
    backend,
    headSecondsPerRowFeature: headCost ? headCost.perRowFeature : reference.headSecondsPerRowFeature,
    headSecondsPerRow: headCost ? headCost.perRow : reference.headSecondsPerRow,
    inferenceImagesPerSecond: Object.fromEntries(inference.map((r) => [r.backbone, r.imagesPerCpuSecond])),
    partialStepSeconds: Object.fromEntries(partialStep.map((r) => [r.backbone, r.suffixCpuSeconds])),
  };
  const file = path.join(projectRoot(), 'results', 'bench', `${backend}.json`);
  writeJsonAtomic(file, timings);
  return file;
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
