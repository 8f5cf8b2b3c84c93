/**
 * Benchmark (not a test) of training and inference speed per backend.
 *
 *   npm run -s bench:kernels [-- --backends wasm,cpu --steps 5 --warmup 2 --json]
 *   npm run -s bench:kernels -- --resnet         also: ResNet50-like forward throughput on wasm
 *
 * Train: one training step (forward + backward + Adam) of a MobileNetV2-style stack, batch 10,
 * 80 x 80 x 3, median over several steps after warm-up. Forward: images/s of a ResNet50-like
 * bottleneck stack, batch 32, 80 x 80, plus which kernels the forward pass ran (to see whether
 * tfjs-layers uses wasm's fused conv + bias + activation).
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, initBackend, parseBackendName } from '../lib/backend';
import { Rng } from '../lib/util/rng';
import { machineInfo } from '../lib/util/provenance';

interface BenchOptions {
  backends: string;
  steps: string;
  warmup: string;
  batch: string;
  size: string;
  resnet?: boolean;
  resnetBatch: string;
  resnetRuns: string;
  json?: boolean;
  onlyMissingKernels?: boolean;
}

type Sym = tf.SymbolicTensor;

function relu6(x: Sym): Sym {
  return tf.layers.reLU({ maxValue: 6 }).apply(x) as Sym;
}

function bn(x: Sym): Sym {
  return tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999 }).apply(x) as Sym;
}

function conv(x: Sym, filters: number, kernelSize: number, strides: number, seed: number, useBias = false): Sym {
  return tf.layers
    .conv2d({ filters, kernelSize, strides, padding: 'same', useBias, kernelInitializer: tf.initializers.heNormal({ seed }) })
    .apply(x) as Sym;
}

/** MobileNetV2-style: stem, 6 inverted-residual blocks (1x1 expand, 3x3 depthwise, 1x1 project), Flatten + Dense(3). */
export function mobileNetV2Stack(size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  let seed = 1;
  let h = relu6(bn(conv(input, 32, 3, 2, seed++)));
  let channels = 32;
  const blocks: Array<[number, number, number]> = [
    [1, 16, 1],
    [6, 24, 2],
    [6, 24, 1],
    [6, 32, 2],
    [6, 32, 1],
    [6, 32, 1],
  ];
  for (const [expand, out, stride] of blocks) {
    const shortcut = h;
    let y = h;
    if (expand > 1) y = relu6(bn(conv(y, channels * expand, 1, 1, seed++)));
    y = tf.layers
      .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: tf.initializers.heNormal({ seed: seed++ }) })
      .apply(y) as Sym;
    y = relu6(bn(y));
    y = bn(conv(y, out, 1, 1, seed++));
    if (stride === 1 && channels === out) y = tf.layers.add().apply([shortcut, y]) as Sym;
    h = y;
    channels = out;
  }
  const flat = tf.layers.flatten().apply(h) as Sym;
  const outputs = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }) }).apply(flat) as Sym;
  return tf.model({ inputs: input, outputs });
}

/** ResNet50-like: 7x7/2 stem + max-pool, bottleneck stages [3, 4, 6, 3], conv + BN + ReLU as in Keras. */
export function resNet50Stack(size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  let seed = 100;
  const relu = (x: Sym) => tf.layers.activation({ activation: 'relu' }).apply(x) as Sym;
  let h = relu(bn(conv(input, 64, 7, 2, seed++, true)));
  h = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h) as Sym;
  const stages: Array<[number, number, number]> = [
    [3, 64, 1],
    [4, 128, 2],
    [6, 256, 2],
    [3, 512, 2],
  ];
  for (const [count, width, firstStride] of stages) {
    for (let b = 0; b < count; b++) {
      const stride = b === 0 ? firstStride : 1;
      const shortcut = b === 0 ? bn(conv(h, width * 4, 1, stride, seed++, true)) : h;
      let y = relu(bn(conv(h, width, 1, stride, seed++, true)));
      y = relu(bn(conv(y, width, 3, 1, seed++, true)));
      y = bn(conv(y, width * 4, 1, 1, seed++, true));
      h = relu(tf.layers.add().apply([shortcut, y]) as Sym);
    }
  }
  return tf.model({ inputs: input, outputs: h });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function uniformTensor(shape: number[], rng: Rng, lo: number, hi: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.uniform(lo, hi);
  return tf.tensor(values, shape);
}

interface TrainResult {
  backend: string;
  detail: string;
  params: number;
  stepMs: number[];
  medianStepMs: number;
  /** CPU time of this process per step (user + system): robust to other load on a shared machine. */
  stepCpuMs: number[];
  medianStepCpuMs: number;
  imagesPerSecond: number;
  loss: { first: number; last: number };
}

async function benchTraining(
  backend: string,
  opts: { steps: number; warmup: number; batch: number; size: number; onlyMissingKernels: boolean },
): Promise<TrainResult> {
  const choice = await initBackend({
    backend,
    registerWasmKernels: opts.onlyMissingKernels ? { replaceConv2DBackpropInput: false, replaceTile: false } : true,
  });
  const rng = new Rng(7);
  const model = mobileNetV2Stack(opts.size);
  model.compile({ optimizer: tf.train.adam(1e-4), loss: 'meanSquaredError' });
  const x = uniformTensor([opts.batch, opts.size, opts.size, 3], rng, -1, 1);
  const y = uniformTensor([opts.batch, 3], rng, 0, 3);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < opts.warmup + opts.steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const loss = (await model.trainOnBatch(x, y)) as number;
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    losses.push(loss);
    if (i >= opts.warmup) {
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  const result: TrainResult = {
    backend: choice.backend,
    detail: choice.attempts[choice.attempts.length - 1].detail,
    params: model.countParams(),
    stepMs: times.map((t) => Math.round(t)),
    medianStepMs: Math.round(median(times)),
    stepCpuMs: cpuTimes.map((t) => Math.round(t)),
    medianStepCpuMs: Math.round(median(cpuTimes)),
    imagesPerSecond: Number(((opts.batch * 1000) / median(times)).toFixed(1)),
    loss: { first: losses[0], last: losses[losses.length - 1] },
  };
  tf.dispose([x, y]);
  model.dispose();
  return result;
}

interface ForwardResult {
  backend: string;
  batch: number;
  params: number;
  runMs: number[];
  medianRunMs: number;
  medianRunCpuMs: number;
  imagesPerSecond: number;
  kernelCounts: Record<string, number>;
}

async function benchForward(opts: { batch: number; size: number; runs: number }): Promise<ForwardResult> {
  const choice = await initBackend({ backend: 'wasm' });
  const model = resNet50Stack(opts.size);
  const x = uniformTensor([opts.batch, opts.size, opts.size, 3], new Rng(11), -1, 1);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < opts.runs + 1; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = model.predict(x) as tf.Tensor;
    await out.data();
    out.dispose();
    const cpu = process.cpuUsage(c0);
    if (i > 0) {
      times.push(performance.now() - t0);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  // Which kernels the forward pass runs: FusedConv2D means tfjs-layers used the fused path.
  const profile = await tf.profile(() => {
    const out = model.predict(x) as tf.Tensor;
    return out;
  });
  const kernelCounts: Record<string, number> = {};
  for (const k of profile.kernels) kernelCounts[k.name] = (kernelCounts[k.name] ?? 0) + 1;
  const result: ForwardResult = {
    backend: choice.backend,
    batch: opts.batch,
    params: model.countParams(),
    runMs: times.map((t) => Math.round(t)),
    medianRunMs: Math.round(median(times)),
    medianRunCpuMs: Math.round(median(cpuTimes)),
    imagesPerSecond: Number(((opts.batch * 1000) / median(times)).toFixed(1)),
    kernelCounts,
  };
  x.dispose();
  model.dispose();
  return result;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench:kernels')
    .description('Time a MobileNetV2-style training step per backend (and optionally ResNet50-like inference on wasm)')
    .option('--backends <list>', `comma-separated, of ${BACKEND_NAMES.join(', ')} (or none)`, 'wasm,cpu')
    .option('--steps <n>', 'timed training steps per backend', '5')
    .option('--warmup <n>', 'untimed steps first', '2')
    .option('--batch <n>', 'training batch size', '10')
    .option('--size <n>', 'input height and width', '80')
    .option('--resnet', 'also time ResNet50-like forward passes on wasm')
    .option('--resnet-batch <n>', 'ResNet forward batch size', '32')
    .option('--resnet-runs <n>', 'timed ResNet forward passes', '3')
    .option('--json', 'print JSON only')
    .option('--only-missing-kernels', "wasm: register only the 3 missing gradient kernels (keep wasm's own Conv2DBackpropInput and Tile)")
    .parse(process.argv);
  const o = program.opts<BenchOptions>();
  const int = (v: string, name: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
  const backends = o.backends === 'none' ? [] : o.backends.split(',').map((b) => parseBackendName(b, '--backends'));
  const settings = { steps: int(o.steps, 'steps', 1), warmup: int(o.warmup, 'warmup', 0), batch: int(o.batch, 'batch', 1), size: int(o.size, 'size', 16), onlyMissingKernels: Boolean(o.onlyMissingKernels) };
  const log = (msg: string) => {
    if (!o.json) console.error(msg);
  };

  const training: TrainResult[] = [];
  for (const backend of backends) {
    log(`training step, MobileNetV2-style stack, batch ${settings.batch}, ${settings.size}x${settings.size}x3 on ${backend} ...`);
    const r = await benchTraining(backend, settings);
    training.push(r);
    log(`  ${r.backend}: median ${r.medianStepMs} ms/step wall (${r.imagesPerSecond} images/s), ${r.medianStepCpuMs} ms CPU; steps ${r.stepMs.join(', ')} ms`);
  }
  let forward: ForwardResult | undefined;
  if (o.resnet) {
    const fo = { batch: int(o.resnetBatch, 'resnet-batch', 1), size: settings.size, runs: int(o.resnetRuns, 'resnet-runs', 1) };
    log(`forward, ResNet50-like stack, batch ${fo.batch}, ${fo.size}x${fo.size}x3 on wasm ...`);
    forward = await benchForward(fo);
    log(`  median ${forward.medianRunMs} ms/batch wall (${forward.imagesPerSecond} images/s), ${forward.medianRunCpuMs} ms CPU; kernels ${JSON.stringify(forward.kernelCounts)}`);
  }
  const report = { settings, training, forward, machine: machineInfo(), tfjs: tf.version.tfjs, date: new Date().toISOString() };
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else if (training.length > 1) {
    const [a, b] = training;
    log(`${b.backend} / ${a.backend}: ${(b.medianStepMs / a.medianStepMs).toFixed(1)}x wall, ${(b.medianStepCpuMs / a.medianStepCpuMs).toFixed(1)}x CPU`);
  }
}

if (require.main === module) main().catch((err: unknown) => {
  console.error(`bench:kernels: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
