/**
 * Benchmark (not a test) of frozen-backbone inference: stock model.predict against the compiled
 * model run op by op (lib/accel compileInference) and, on native TensorFlow, as one TensorFlow graph
 * (compileInferenceGraph, what the study uses there), in this thread and across 1..n worker threads.
 *
 *   npx tsx scripts/bench-inference.ts [--backbones ResNet50,DenseNet121,MobileNetV2] [--workers 1,2]
 *                                      [--batch 32] [--size 80] [--runs 5] [--batches 4] [--json]
 *
 * Images/s is wall time (median of --runs after a warm-up run); CPU ms/image is process CPU time
 * (all threads, process.cpuUsage) over the same images. The machine may be shared, so the CPU
 * figure is the one to compare across runs; "cpu-bound img/s" = threads x 1000 / CPU ms per image
 * is the rate the same work would reach on that many idle cores.
 */
import * as os from 'os';
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { buildBackbone, getBackboneSpec } from '../lib/backbones';
import { compileInference, compileInferenceGraph, FeatureWorkerPool, type CompileForBackendOptions, type InferenceFn } from '../lib/accel';
import { Rng } from '../lib/util/rng';
import { positiveInt, positiveIntList } from '../lib/util/cli';

interface BenchOptions {
  backbones: string;
  workers: string;
  batch: string;
  size: string;
  runs: string;
  batches: string;
  json?: boolean;
}

/** PyTorch 1.13 on this machine (2 threads, batch 32, 80 x 80, eval mode), from the issue. */
const PYTORCH_IMAGES_PER_S: Record<string, number> = { ResNet50: 99, DenseNet121: 110, MobileNetV2: 350 };

interface Measurement {
  backbone: string;
  mode: string;
  /** Compute threads used (1 in-process, else workers). */
  threads: number;
  imagesPerSecond: number;
  cpuMsPerImage: number;
  /** threads x 1000 / cpuMsPerImage: throughput on that many idle cores. */
  cpuBoundImagesPerSecond: number;
  runs: number[];
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `body` (which processes `images` images) warm-up + `runs` times; median wall and CPU. */
async function measure(backbone: string, mode: string, threads: number, images: number, runs: number, body: () => Promise<void>): Promise<Measurement> {
  await body(); // warm-up: XNNPACK operator creation, weight packing, allocator growth
  const rates: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await body();
    const wall = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    rates.push(images / wall);
    cpus.push((cu.user + cu.system) / 1000 / images);
  }
  const cpuMsPerImage = median(cpus);
  return { backbone, mode, threads, imagesPerSecond: median(rates), cpuMsPerImage, cpuBoundImagesPerSecond: (threads * 1000) / cpuMsPerImage, runs: rates };
}

async function main(): Promise<void> {
  const program = new Command()
    .option('--backbones <names>', 'comma-separated backbones', 'ResNet50,DenseNet121,MobileNetV2')
    .option('--workers <list>', 'worker counts for the compiled model', (v) => (positiveIntList(v), v), '1,2')
    .option('--batch <n>', 'batch size', (v) => String(positiveInt(v)), '32')
    .option('--size <n>', 'input size', (v) => String(positiveInt(v)), '80')
    .option('--runs <n>', 'measured runs (median)', (v) => String(positiveInt(v)), '5')
    .option('--batches <n>', 'batches per run and worker in worker mode', (v) => String(positiveInt(v)), '2')
    .option('--json', 'print JSON only');
  program.parse(process.argv);
  const opts = program.opts<BenchOptions>();
  const workerCounts = opts.workers.split(',').filter(Boolean).map(Number);
  // TensorFlow's threads as the study plans them for its largest worker count (nativeThreadPlan).
  const choice = await initBackend({ workers: Math.max(...workerCounts) });
  const native = choice.backend === 'tensorflow';
  const batch = Number(opts.batch);
  const size = Number(opts.size);
  const runs = Number(opts.runs);
  const perWorker = Number(opts.batches);
  const log = (s: string) => {
    if (!opts.json) console.log(s);
  };
  const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
  log(`backend: ${choice.reason}; batch ${batch}, ${size} x ${size}, median of ${runs} runs after warm-up`);
  log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average at start ${load()}`);
  const rng = new Rng(1);
  const pixels = batch * size * size * 3;
  const data = new Float32Array(pixels);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-1, 1);
  const results: Measurement[] = [];
  const show = (m: Measurement) => {
    results.push(m);
    const target = PYTORCH_IMAGES_PER_S[m.backbone];
    const vs = target ? `  (PyTorch 2 threads: ${target}; half: ${target / 2})` : '';
    log(
      `${m.backbone.padEnd(12)} ${m.mode.padEnd(21)} ${m.imagesPerSecond.toFixed(1).padStart(7)} img/s wall  ` +
        `${m.cpuMsPerImage.toFixed(2).padStart(7)} CPU ms/img  ${m.cpuBoundImagesPerSecond.toFixed(1).padStart(7)} img/s cpu-bound on ${m.threads} core${m.threads > 1 ? 's' : ''}${vs}`,
    );
  };

  for (const name of opts.backbones.split(',').filter(Boolean).map((b) => getBackboneSpec(b).name)) {
    const model = buildBackbone(name, { inputSize: size });
    const x = tf.tensor4d(data, [batch, size, size, 3]);
    show(
      await measure(name, 'predict', 1, batch, runs, async () => {
        const y = model.predict(x, { batchSize: batch }) as tf.Tensor;
        await y.data();
        y.dispose();
      }),
    );
    const compiled: Array<[string, InferenceFn]> = [['compiled', compileInference(model)]];
    if (native) compiled.push(['graph', await compileInferenceGraph(model)]);
    for (const [mode, fn] of compiled) {
      show(
        await measure(name, mode, 1, batch, runs, async () => {
          const y = fn(x);
          await y.data();
          y.dispose();
        }),
      );
      fn.dispose();
    }
    x.dispose();
    model.dispose();

    // Worker modes: stock predict, compiled op by op, and (native) one graph.
    const modes: Array<[string, CompileForBackendOptions | false]> = [['predict', false], ['compiled', { graph: false }], ...(native ? [['graph', {}] as [string, CompileForBackendOptions]] : [])];
    for (const [w, [label, compile]] of workerCounts.flatMap((w) => modes.map((m) => [w, m] as const))) {
      const pool = await FeatureWorkerPool.create({ backbone: name, inputSize: size, workers: w, compile });
      const count = batch * perWorker * w;
      // Each call gets fresh copies: the pool transfers (detaches) the batch buffers.
      const inputs = (_start: number, n: number) => data.slice(0, n * size * size * 3);
      try {
        show(
          await measure(name, `${label}, ${w} worker${w > 1 ? 's' : ''}`, w, count, runs, async () => {
            await pool.extract({ inputs, count, batchSize: batch });
          }),
        );
      } finally {
        await pool.close();
      }
    }
  }
  log(`load average at end ${load()}`);
  if (opts.json) {
    console.log(JSON.stringify({ backend: choice.backend, batch, size, runs, loadAverageAtEnd: os.loadavg(), pytorch: PYTORCH_IMAGES_PER_S, results }, null, 2));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
