import { Rng, deriveSeed } from '../util/rng';

/** Settings of the paper's experimental design (section "Experimental design"). */
export interface DesignConfig {
  /** Seed for every choice the manifest does not fix. Default 0. */
  seed?: number;
  /** Held-out test patients when the manifest names none. Default 3. */
  testCount?: number;
  /** Cross-folds, each with a different validation group. Default 6. */
  folds?: number;
  /** Validation patients per fold (leave-two-out). Default 2. */
  validationSize?: number;
  /** Training-set sizes in patients; subsets are nested. Default [1, 4, 8]. */
  trainingSizes?: number[];
  /** Repeats of the ensemble (same sets; initialisation and data order vary). Default 5. */
  ensembleRepeats?: number;
  /** Fold the ensemble is trained on. Default 0. */
  ensembleFold?: number;
}

export const DEFAULT_DESIGN_CONFIG: Required<DesignConfig> = {
  seed: 0,
  testCount: 3,
  folds: 6,
  validationSize: 2,
  trainingSizes: [1, 4, 8],
  ensembleRepeats: 5,
  ensembleFold: 0,
};

export interface DesignFold {
  fold: number;
  validation: string[];
  /** Patients that are neither test nor validation, in the (seeded) order nested subsets are cut from. */
  trainingPool: string[];
  /** Training patients per size n (keys are n as strings, for JSON); each is a prefix of the pool. */
  training: Record<string, string[]>;
}

/** A plain, serialisable study design: what the runner consumes and writes next to the results. */
export interface StudyDesign {
  schema: 'pet-iqa/design@1';
  seed: number;
  config: Required<DesignConfig>;
  patients: string[];
  testPatients: string[];
  /** Where the test patients came from. */
  testSource: 'manifest' | 'seeded';
  folds: DesignFold[];
  trainingSizes: number[];
  ensemble: { fold: number; repeats: number; sizes: number[] };
}

/**
 * Draws `count` distinct groups of `size` from `pool`, each patient appearing as evenly as possible:
 * groups are filled from a seeded order that always prefers the patients used least so far.
 */
function validationGroups(pool: string[], count: number, size: number, rng: Rng): string[][] {
  const maxDistinct = binomial(pool.length, size);
  if (count > maxDistinct) {
    throw new Error(`design: cannot form ${count} different validation groups of ${size} from ${pool.length} patients (at most ${maxDistinct})`);
  }
  const uses = new Map(pool.map((p) => [p, 0]));
  const seen = new Set<string>();
  const groups: string[][] = [];
  let attempts = 0;
  while (groups.length < count) {
    if (++attempts > 10000) throw new Error('design: could not find distinct validation groups');
    const order = rng.shuffle(pool.slice()).sort((a, b) => uses.get(a)! - uses.get(b)!);
    // Least-used first; among ties the shuffled order decides. Retry with fresh randomness on a repeat.
    let group = order.slice(0, size).sort();
    if (seen.has(group.join('\u0000'))) {
      group = rng.sample(pool, size).sort();
      if (seen.has(group.join('\u0000'))) continue;
    }
    seen.add(group.join('\u0000'));
    for (const p of group) uses.set(p, uses.get(p)! + 1);
    groups.push(group);
  }
  return groups;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/**
 * The paper's design: 3 test patients (from the manifest, or seeded), and over the other patients
 * `folds` cross-folds, each with a different validation pair; the rest of each fold is its training
 * pool, from which nested training subsets of the given sizes are cut (the n = 1 set lies inside the
 * n = 4 set, and so on); plus an ensemble plan of repeated runs on one fold.
 */
export function makeDesign(patientIds: readonly string[], config: DesignConfig = {}, testPatients?: readonly string[]): StudyDesign {
  const cfg: Required<DesignConfig> = { ...DEFAULT_DESIGN_CONFIG, ...config, trainingSizes: [...(config.trainingSizes ?? DEFAULT_DESIGN_CONFIG.trainingSizes)] };
  const patients = [...patientIds];
  const dup = patients.find((p, i) => patients.indexOf(p) !== i);
  if (dup !== undefined) throw new Error(`design: patient '${dup}' is listed twice`);
  const sizes = [...cfg.trainingSizes].sort((a, b) => a - b);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`design: training sizes must be positive integers, got ${cfg.trainingSizes.join(', ')}`);
  if (!(cfg.folds >= 1) || !(cfg.validationSize >= 1)) throw new Error('design: folds and validationSize must be >= 1');

  let tests: string[];
  let testSource: StudyDesign['testSource'];
  if (testPatients && testPatients.length > 0) {
    for (const t of testPatients) if (!patients.includes(t)) throw new Error(`design: test patient '${t}' is not among the cohort's patients`);
    tests = [...testPatients];
    testSource = 'manifest';
  } else {
    if (patients.length <= cfg.testCount) throw new Error(`design: ${patients.length} patients cannot spare ${cfg.testCount} for testing`);
    tests = new Rng(deriveSeed(cfg.seed, 'test-patients')).sample(patients, cfg.testCount).sort();
    testSource = 'seeded';
  }
  const rest = patients.filter((p) => !tests.includes(p));
  const largest = sizes[sizes.length - 1];
  if (rest.length - cfg.validationSize < largest) {
    throw new Error(
      `design: ${rest.length} non-test patients leave ${rest.length - cfg.validationSize} for training after ${cfg.validationSize} for validation, fewer than the largest training size ${largest}`,
    );
  }
  if (!(cfg.ensembleFold >= 0 && cfg.ensembleFold < cfg.folds)) throw new Error(`design: ensembleFold ${cfg.ensembleFold} is not one of the ${cfg.folds} folds`);

  const groups = validationGroups(rest, cfg.folds, cfg.validationSize, new Rng(deriveSeed(cfg.seed, 'validation')));
  const folds: DesignFold[] = groups.map((validation, fold) => {
    const poolRng = new Rng(deriveSeed(cfg.seed, 'training-pool', fold));
    const trainingPool = poolRng.shuffle(rest.filter((p) => !validation.includes(p)));
    const training: Record<string, string[]> = {};
    for (const n of sizes) training[String(n)] = trainingPool.slice(0, n);
    return { fold, validation, trainingPool, training };
  });
  return {
    schema: 'pet-iqa/design@1',
    seed: cfg.seed,
    config: cfg,
    patients,
    testPatients: tests,
    testSource,
    folds,
    trainingSizes: sizes,
    ensemble: { fold: cfg.ensembleFold, repeats: cfg.ensembleRepeats, sizes },
  };
}

/** Checks a design read from disk (for example a hand-edited design.json) for the invariants the runner relies on. */
export function checkDesign(design: StudyDesign, source = 'design'): void {
  const problems: string[] = [];
  if (design.schema !== 'pet-iqa/design@1') problems.push(`schema: expected 'pet-iqa/design@1', got '${design.schema}'`);
  const test = new Set(design.testPatients);
  const seenValidation = new Set<string>();
  design.folds.forEach((f, i) => {
    const key = [...f.validation].sort().join(',');
    if (seenValidation.has(key)) problems.push(`folds[${i}].validation: repeats an earlier fold's group (${key})`);
    seenValidation.add(key);
    for (const p of f.validation) if (test.has(p)) problems.push(`folds[${i}].validation: test patient '${p}'`);
    for (const [n, ids] of Object.entries(f.training)) {
      if (ids.length !== Number(n)) problems.push(`folds[${i}].training.${n}: has ${ids.length} patients`);
      for (const p of ids) {
        if (test.has(p)) problems.push(`folds[${i}].training.${n}: test patient '${p}'`);
        if (f.validation.includes(p)) problems.push(`folds[${i}].training.${n}: validation patient '${p}'`);
      }
    }
  });
  if (problems.length) throw new Error(`${source}: invalid design:\n  ${problems.join('\n  ')}`);
}
