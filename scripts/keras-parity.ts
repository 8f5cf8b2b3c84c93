/**
 * Dev tool: compare two .npy arrays (ours vs a Keras reference), e.g.
 *   npx tsx scripts/keras-parity.ts out.npy /tmp/kref/ResNet50_y.npy [--tol 1e-4] [--json]
 * Reports max abs error, max abs error relative to the reference's max |value|, the largest
 * elementwise relative error (over values with |ref| > 1e-3 * max|ref|), and where the worst one is.
 * Exit 0 when the scaled error is within --tol, 1 when not, 2 for bad input. See docs/keras-parity.md.
 */
import { Command, CommanderError } from 'commander';
import { readNpy } from '../lib/io/npy';
import { positiveNumber } from '../lib/util/cli';

export interface ParityStats {
  shape: number[];
  maxAbs: number;
  /** maxAbs / max |ref|: the float32-meaningful number. */
  scaled: number;
  /** Largest |a - b| / |b| over entries with |b| > 1e-3 max |ref|. */
  maxRel: number;
  meanAbs: number;
  refMaxAbs: number;
  /** Flat index and NHWC-style coordinates of the largest abs error. */
  worst: { index: number; at: number[]; ours: number; ref: number };
}

export function compareArrays(a: Float32Array, b: Float32Array, shape: number[]): ParityStats {
  let maxAbs = 0;
  let at = 0;
  let sum = 0;
  let refMax = 0;
  for (let i = 0; i < b.length; i++) refMax = Math.max(refMax, Math.abs(b[i]));
  let maxRel = 0;
  const floor = 1e-3 * refMax;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxAbs)) {
      maxAbs = d; // NaN also lands here and stays
      at = i;
    }
    sum += d;
    if (Math.abs(b[i]) > floor) maxRel = Math.max(maxRel, d / Math.abs(b[i]));
  }
  const coords: number[] = [];
  let rest = at;
  for (let k = shape.length - 1; k >= 0; k--) {
    coords.unshift(rest % shape[k]);
    rest = Math.floor(rest / shape[k]);
  }
  return {
    shape,
    maxAbs,
    scaled: refMax > 0 ? maxAbs / refMax : maxAbs,
    maxRel,
    meanAbs: a.length ? sum / a.length : 0,
    refMaxAbs: refMax,
    worst: { index: at, at: coords, ours: a[at], ref: b[at] },
  };
}

function main(argv: string[]): number {
  const program = new Command('keras-parity')
    .argument('<ours>', 'our output .npy')
    .argument('<reference>', 'reference output .npy (Keras)')
    .option('--tol <x>', 'tolerance on max abs error / max |reference|', (v) => String(positiveNumber(v)), '1e-4')
    .option('--json', 'JSON on stdout')
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const [oursFile, refFile] = program.args;
  const o = program.opts<{ tol: string; json?: boolean }>();
  const ours = readNpy(oursFile);
  const ref = readNpy(refFile);
  if (ours.shape.join(',') !== ref.shape.join(',')) {
    console.error(`shape mismatch: ${oursFile} is [${ours.shape.join(', ')}], ${refFile} is [${ref.shape.join(', ')}]`);
    return 1;
  }
  const s = compareArrays(ours.data, ref.data, ref.shape);
  const tol = Number(o.tol);
  const ok = s.scaled <= tol;
  if (o.json) console.log(JSON.stringify({ ours: oursFile, reference: refFile, tol, ok, ...s }, null, 2));
  else {
    console.log(
      `shape [${s.shape.join(', ')}]  max|ref| ${s.refMaxAbs.toPrecision(4)}  max abs err ${s.maxAbs.toExponential(2)}  ` +
        `scaled ${s.scaled.toExponential(2)}  max rel ${s.maxRel.toExponential(2)}  mean abs ${s.meanAbs.toExponential(2)}  ` +
        `worst at [${s.worst.at.join(', ')}] ours ${s.worst.ours} ref ${s.worst.ref}  ${ok ? 'OK' : `EXCEEDS tol ${tol}`}`,
    );
  }
  return ok ? 0 : 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
