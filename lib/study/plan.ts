/**
 * The runs of a sweep, their ids and seeds, and deterministic sharding.
 */
import type { BackboneName } from '../backbones/registry';
import type { StudyDesign } from '../design/design';
import type { Regime, RunRecord } from '../types';
import { deriveSeed } from '../util/rng';

/** One run to do: everything that identifies it (the record adds results). */
export type RunSpec = Pick<
  RunRecord,
  'id' | 'regime' | 'kind' | 'fold' | 'n' | 'repeat' | 'seed' | 'trainPatients' | 'validationPatients' | 'testPatients'
> & { backbone: BackboneName };

export interface PlanArgs {
  design: StudyDesign;
  backbones: readonly BackboneName[];
  regimes: readonly Regime[];
  /** The partial regime's single run. */
  partial: { fold: number; n: number };
  /** Study seed. */
  seed: number;
}

/** `frozen__DenseNet121__fold3__n4__rep0`, `frozen__DenseNet121__ensemble__fold0__n4__rep2`. */
export function runId(r: Pick<RunSpec, 'regime' | 'backbone' | 'kind' | 'fold' | 'n' | 'repeat'>): string {
  return [r.regime, r.backbone, ...(r.kind === 'ensemble' ? ['ensemble'] : []), `fold${r.fold}`, `n${r.n}`, `rep${r.repeat}`].join('__');
}

/**
 * Every run, backbone-major: frozen = folds x sizes, then the ensemble (repeats x sizes);
 * partial = one fold at one size. Seeds derive from the study seed and the run id, so a run's
 * seed does not depend on which other runs are planned.
 */
export function planRuns(args: PlanArgs): RunSpec[] {
  const { design } = args;
  const runs: RunSpec[] = [];
  const foldOf = (f: number) => {
    const fold = design.folds.find((x) => x.fold === f);
    if (!fold) throw new Error(`plan: fold ${f} is not in the design (folds ${design.folds.map((x) => x.fold).join(', ')})`);
    return fold;
  };
  const add = (backbone: BackboneName, regime: Regime, kind: RunSpec['kind'], f: number, n: number, repeat: number) => {
    const fold = foldOf(f);
    const train = fold.training[String(n)];
    if (!train) throw new Error(`plan: training size ${n} is not in the design (sizes ${design.trainingSizes.join(', ')})`);
    const spec = { backbone, regime, kind, fold: f, n, repeat };
    const id = runId(spec);
    runs.push({ id, ...spec, seed: deriveSeed(args.seed, id), trainPatients: [...train], validationPatients: [...fold.validation], testPatients: [...design.testPatients] });
  };
  for (const b of args.backbones) {
    for (const regime of args.regimes) {
      if (regime === 'frozen') {
        for (const fold of design.folds) for (const n of design.trainingSizes) add(b, regime, 'fold', fold.fold, n, 0);
        for (const n of design.ensemble.sizes) for (let r = 0; r < design.ensemble.repeats; r++) add(b, regime, 'ensemble', design.ensemble.fold, n, r);
      } else {
        add(b, regime, 'fold', args.partial.fold, args.partial.n, 0);
      }
    }
  }
  const ids = new Set(runs.map((r) => r.id));
  if (ids.size !== runs.length) throw new Error('plan: duplicate run ids (a backbone or regime listed twice?)');
  return runs;
}

/** Parses "i/N" (1-based i, as Slurm array indices usually are: 1/4 .. 4/4). */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`--shard must look like i/N (e.g. 2/8), got '${s}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!(count >= 1 && index >= 1 && index <= count)) throw new Error(`--shard ${s}: need 1 <= i <= N`);
  return { index, count };
}

/**
 * Shard i of N: a contiguous block of the backbone-major run list, so each machine touches few
 * backbones (feature extraction stays mostly once per backbone) and blocks differ in size by at most one.
 */
export function shardRuns<T>(runs: readonly T[], shard: { index: number; count: number }): T[] {
  const { index, count } = shard;
  const start = Math.floor(((index - 1) * runs.length) / count);
  const end = Math.floor((index * runs.length) / count);
  return runs.slice(start, end);
}
