/**
 * npm run -s features -- --backbone NAME [--weights imagenet|random|FILE] --input X.npy --out Y.npy
 *   [--batch 32] [--input-size N] [--seed 0] [--backend NAME]
 *
 * Runs a bare backbone (no preprocessing, no head) on an NHWC float32 batch stored as .npy and
 * writes its output as float32 .npy. Used for parity checks against Keras (docs/keras-parity.md).
 * stdout stays empty (a JSON summary with --json); messages go to stderr.
 */
import { Command, CommanderError } from 'commander';
import * as cliProgress from 'cli-progress';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { getBackboneSpec } from '../lib/backbones/registry';
import { assertFiniteNpy, readNpy, writeNpy } from '../lib/io/npy';
import { loadBackboneWithWeights, provenanceFile, weightsOption, type LoadBackboneArgs, type WeightsSource } from '../lib/weights';

/** Options of the features command (strings as commander gives them). */
export interface FeaturesOpts {
  backbone: string;
  weights: WeightsSource;
  input: string;
  out: string;
  batch: string;
  inputSize?: string;
  seed: string;
  backend?: string;
  /** Output of this layer instead of the model's (for locating a parity difference). */
  layer?: string;
  json?: boolean;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** Runs the features command with parsed options; `deps.build` replaces buildBackbone (tests). */
export async function runFeatures(o: FeaturesOpts, deps: { build?: LoadBackboneArgs['build'] } = {}): Promise<{ shape: number[] }> {
  const t0 = Date.now();
  const spec = getBackboneSpec(o.backbone);
  const batch = positiveInt(o.batch, '--batch');
  const seed = Number(o.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${o.seed}'`);
  const x = readNpy(o.input);
  // NaN/Inf pixels would propagate silently into every output feature.
  assertFiniteNpy(x, o.input);
  if (x.shape.length !== 4) {
    throw new Error(`${o.input}: expected an NHWC batch of rank 4 [N, H, W, 3], got shape [${x.shape.join(', ')}]`);
  }
  const [n, h, w, c] = x.shape;
  if (c !== 3) throw new Error(`${o.input}: ${spec.name} takes 3 channels (NHWC, channels last), the input has ${c} (shape [${x.shape.join(', ')}])`);
  if (n === 0) throw new Error(`${o.input}: the batch is empty (shape [${x.shape.join(', ')}])`);
  const inputSize = o.inputSize !== undefined ? positiveInt(o.inputSize, '--input-size') : h;

  const choice = await initBackend(o.backend ? { backend: o.backend } : {});
  const loaded = await loadBackboneWithWeights(spec.name, { weights: o.weights, inputSize, seed, build: deps.build });
  const provenance = loaded.provenance;
  let model = loaded.model;
  if (o.layer !== undefined) {
    let target: tf.layers.Layer;
    try {
      target = model.getLayer(o.layer);
    } catch {
      throw new Error(`--layer: ${spec.name} has no layer '${o.layer}' (layers: ${model.layers.slice(0, 5).map((l) => l.name).join(', ')}, ...)`);
    }
    model = tf.model({ inputs: model.inputs, outputs: target.output as tf.SymbolicTensor });
  }
  const inShape = model.inputs[0].shape;
  if (inShape[1] !== h || inShape[2] !== w || inShape[3] !== c) {
    throw new Error(`${o.input}: images are ${h} x ${w} x ${c} but the ${spec.name} model takes [${inShape.slice(1).join(', ')}] (set --input-size to build it for another size)`);
  }
  const outShape = (model.outputs[0].shape as Array<number | null>).slice(1) as number[];
  const per = outShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * per);
  const per0 = h * w * c;
  const bar = !o.json && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: `${spec.name} [{bar}] {value}/{total} images` }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(n, 0);
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const y = tf.tidy(() => {
      const xb = tf.tensor4d(x.data.subarray(i * per0, (i + b) * per0), [b, h, w, c]);
      return (model.predict(xb) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(y, i * per);
    bar?.update(i + b);
  }
  bar?.stop();
  writeNpy(o.out, { data: out, shape: [n, ...outShape] });
  const summary = {
    backbone: spec.name,
    backend: choice.backend,
    weights: provenance,
    input: { file: o.input, shape: x.shape },
    output: { file: o.out, shape: [n, ...outShape] },
    seconds: (Date.now() - t0) / 1000,
  };
  if (o.json) console.log(JSON.stringify(summary, null, 2));
  else console.error(`${spec.name} (${choice.backend}, ${provenance.kind === 'random init' ? `random init seed ${provenance.seed}` : provenanceFile(provenance)}): [${x.shape.join(', ')}] -> [${[n, ...outShape].join(', ')}] written to ${o.out} in ${summary.seconds.toFixed(1)} s`);
  loaded.model.dispose();
  return { shape: [n, ...outShape] };
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('features')
    .description('Run a bare backbone (no preprocessing, no head) on an NHWC .npy batch; write its output as .npy')
    .requiredOption('--backbone <name>', 'backbone name, e.g. ResNet50')
    .addOption(weightsOption())
    .requiredOption('--input <file>', 'input batch, .npy float32/float64 [N, H, W, 3]')
    .requiredOption('--out <file>', 'output .npy (float32), written atomically')
    .option('--batch <n>', 'images per forward pass', '32')
    .option('--input-size <n>', 'build the model for this square size (default: the input height)')
    .option('--seed <n>', 'seed of a random init', '0')
    .option('--backend <name>', 'TensorFlow.js backend (default: PET_IQA_BACKEND or automatic)')
    .option('--layer <name>', "write this layer's output instead of the model's (parity bisection)")
    .option('--json', 'print a JSON summary on stdout')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
    await runFeatures(program.opts<FeaturesOpts>());
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    console.error(`features: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

export { main };
