/**
 * The files the stages hand each other, as zod schemas: the run record (`<results>/runs/<id>.json`),
 * the study design (`design.json`), the summary (`summary.json`) and a kept model's `meta.json`.
 * Their TypeScript types are inferred from the schemas, so a reader and a writer cannot disagree.
 */
import { z } from 'zod';

/** Schema tags, one place each. Bump the version when a field changes meaning or goes away. */
export const RUN_RECORD_SCHEMA = 'pet-iqa/run@1' as const;
export const MODEL_META_SCHEMA = 'pet-iqa/model@1' as const;
export const SUMMARY_SCHEMA = 'pet-iqa/summary@1' as const;
export const DESIGN_SCHEMA = 'pet-iqa/design@1' as const;
export const BASELINE_RECORD_SCHEMA = 'pet-iqa/baseline@1' as const;

const finite = z.number();
/** JSON writes Infinity as null: read back as Infinity where a metric can be unbounded (CoV of a zero mean). */
const numberOrInfinity = z.union([z.number(), z.null().transform(() => Infinity)]);

export const MetricTripleSchema = z.object({ GQR: finite, PR: finite, DC: finite });
export const MaeSummarySchema = MetricTripleSchema.extend({ overall: finite });
/** Per-volume MAE: each volume's mean patch prediction against its label; `volumes` counted. */
export const VolumeMaeSummarySchema = MaeSummarySchema.extend({ volumes: z.number().int().positive() });

// The two schemas below must accept exactly lib/types' interfaces; test/records/schema-types.test.ts checks
// that at compile time (importing lib/types here would make an import cycle: lib/types re-exports RunRecord).
export const BatchNormCalibrationSchema = z.object({
  images: z.number().int(),
  patients: z.array(z.string()),
  seed: z.number(),
  sha256: z.string(),
  file: z.string(),
});

/** Where a backbone's weights came from (lib/types WeightsProvenance; a new variant must be added here too). */
export const WeightsProvenanceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('imagenet'), file: z.string(), sha256: z.string(), md5: z.string().optional() }),
  z.object({ kind: z.literal('random init'), seed: z.number(), bnCalibration: BatchNormCalibrationSchema.optional() }),
  z.object({
    kind: z.literal('pretext'),
    task: z.string(),
    label: z.string(),
    file: z.string(),
    sha256: z.string(),
    cohort: z.string(),
    manifestSha256: z.string(),
    patchSetHash: z.string(),
    patients: z.array(z.string()),
    excludedPatients: z.array(z.string()),
    steps: z.number().int(),
    seed: z.number(),
    finalLoss: z.number(),
    checkMAE: z.number(),
    key: z.string(),
  }),
]);

export const DataProvenanceSchema = z.object({
  kind: z.enum(['synthetic', 'real']),
  manifest: z.string(),
  manifestSha256: z.string(),
  patchSetHash: z.string(),
  /** The reconstruction files' sha256 check: `verified` false means run with --no-verify. */
  checksums: z.object({ verified: z.boolean(), withChecksum: z.number().int(), withoutChecksum: z.number().int() }).optional(),
});

/** Provenance every record carries besides its data (and, for runs, backend and weights). */
const RECORD_PROVENANCE = {
  preset: z.string(),
  config: z.record(z.unknown()),
  gitCommit: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  machine: z.record(z.unknown()),
};

export const RunMetricsSchema = z.object({
  keptEpoch: z.number().int(),
  minValLoss: finite,
  trainMAE: MaeSummarySchema,
  valMAE: MaeSummarySchema,
  testMAE: MaeSummarySchema,
  testCoV: z.object({ GQR: numberOrInfinity, PR: numberOrInfinity, DC: numberOrInfinity }),
  /** MAE per volume (the mean of a reconstruction's patch predictions against its label), next to the per-patch MAEs above. */
  volumeMAE: z.object({ train: VolumeMaeSummarySchema, validation: VolumeMaeSummarySchema, test: VolumeMaeSummarySchema }),
  /** MAE expected from random labels drawn from the label distribution of the data. */
  randomLabelMAE: finite,
  failedToTrain: z.boolean(),
  failReason: z.string().optional(),
});

/** One training run of the study: the unit the runner writes as `<out>/runs/<id>.json`. */
export const RunRecordSchema = z.object({
  schema: z.literal(RUN_RECORD_SCHEMA),
  /** Stable id, also the file name: for example `frozen__DenseNet121__fold3__n4__rep0`. */
  id: z.string().min(1),
  backbone: z.string().min(1),
  regime: z.enum(['frozen', 'partial']),
  /** 'fold' for the cross-validation grid, 'ensemble' for the repeated runs on one fold. */
  kind: z.enum(['fold', 'ensemble']),
  fold: z.number().int(),
  /** Number of training patients. */
  n: z.number().int(),
  /** Repeat index within an ensemble (0 for fold runs). */
  repeat: z.number().int(),
  seed: z.number(),
  trainPatients: z.array(z.string()),
  validationPatients: z.array(z.string()),
  testPatients: z.array(z.string()),
  /** Trainable parameters in this regime. */
  trainableParams: z.number(),
  metrics: RunMetricsSchema,
  history: z.array(z.object({ epoch: z.number(), loss: z.number(), valLoss: z.number() })),
  timings: z.record(z.number()),
  provenance: z.object({
    backend: z.string(),
    /** Package, version and library underneath, e.g. '@tensorflow/tfjs-node 4.22.0 on TensorFlow 2.21.0, 1 intra-op thread(s)'. */
    backendDetail: z.string().optional(),
    weights: WeightsProvenanceSchema,
    data: DataProvenanceSchema,
    ...RECORD_PROVENANCE,
  }),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;
export type RunMetrics = z.infer<typeof RunMetricsSchema>;

/** The reference predictors of lib/baselines. */
export const BASELINE_PREDICTORS = ['constant', 'handcrafted-ridge'] as const;
export type BaselinePredictor = (typeof BASELINE_PREDICTORS)[number];

/**
 * A baseline predictor fitted on one split of the study (`<out>/baselines/<id>.json`): the same
 * patients and patches as the runs on that split, the same metrics (minValLoss is the validation
 * MSE of the fitted predictor, keptEpoch 0).
 */
export const BaselineRecordSchema = z.object({
  schema: z.literal(BASELINE_RECORD_SCHEMA),
  /** For example `baseline__handcrafted-ridge__fold3__n4`, `baseline__constant__ensemble__fold0__n8`. */
  id: z.string().min(1),
  predictor: z.enum(BASELINE_PREDICTORS),
  /** The runs' split kind this baseline stands next to: the fold grid or the ensemble's fold. */
  kind: z.enum(['fold', 'ensemble']),
  fold: z.number().int(),
  n: z.number().int(),
  trainPatients: z.array(z.string()),
  validationPatients: z.array(z.string()),
  testPatients: z.array(z.string()),
  metrics: RunMetricsSchema,
  /** What was fitted: the constant, or the ridge penalty chosen on validation with its path and the features. */
  model: z.record(z.unknown()),
  timings: z.record(z.number()),
  provenance: z.object({
    data: DataProvenanceSchema,
    ...RECORD_PROVENANCE,
  }),
});
export type BaselineRecord = z.infer<typeof BaselineRecordSchema>;

export const DesignFoldSchema = z.object({
  fold: z.number().int(),
  validation: z.array(z.string()),
  trainingPool: z.array(z.string()),
  training: z.record(z.array(z.string())),
});

/** The study design (lib/design makeDesign) as written to `<results>/design.json`. */
export const StudyDesignSchema = z.object({
  schema: z.literal(DESIGN_SCHEMA),
  seed: z.number(),
  config: z.object({
    seed: z.number(),
    testCount: z.number().int(),
    folds: z.number().int(),
    validationSize: z.number().int(),
    trainingSizes: z.array(z.number().int()),
    ensembleRepeats: z.number().int(),
    ensembleFold: z.number().int(),
  }),
  patients: z.array(z.string()),
  testPatients: z.array(z.string()),
  testSource: z.enum(['manifest', 'seeded']),
  folds: z.array(DesignFoldSchema),
  trainingSizes: z.array(z.number().int()),
  ensemble: z.object({ fold: z.number().int(), repeats: z.number().int(), sizes: z.array(z.number().int()) }),
});

const SummaryCellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const SummaryRowSchema = z.record(SummaryCellSchema);
export type SummaryRow = Record<string, string | number | boolean>;

/** `<results>/summary.json`: one row per record and the means per backbone x regime x kind x n. */
export const SummarySchema = z.object({
  schema: z.literal(SUMMARY_SCHEMA),
  runs: z.array(SummaryRowSchema),
  aggregate: z.array(SummaryRowSchema),
});
export type Summary = z.infer<typeof SummarySchema>;

const positiveInt = z.number().int().positive();

/** `<results>/models/<backbone>__<regime>[__ensemble]/meta.json`: what scoring needs to use a kept model. */
export const ModelMetaSchema = z
  .object({
    schema: z.literal(MODEL_META_SCHEMA),
    backbone: z.string().min(1),
    regime: z.enum(['frozen', 'partial']),
    /** 'fold' (best fold run by validation loss) or 'ensemble' (members member0..). */
    kind: z.enum(['fold', 'ensemble']),
    /** What the folder's model.json takes: flattened backbone features (frozen) or the cut activations (partial). */
    input: z.string(),
    weights: WeightsProvenanceSchema,
    inputSize: positiveInt,
    preprocessing: z.enum(['caffe', 'tf', 'torch', 'none']),
    patches: z
      .object({ size: positiveInt, candidates: positiveInt, keep: positiveInt })
      .passthrough(),
    foldBN: z.boolean(),
    labelScale: z.object({ min: z.literal(0), max: z.literal(3), outputs: z.tuple([z.literal('GQR'), z.literal('PR'), z.literal('DC')]) }),
    runs: z
      .array(z.object({ id: z.string(), member: z.string().optional(), minValLoss: z.number(), testMAE: MaeSummarySchema, seed: z.number() }))
      .min(1, 'must list the run(s) the model comes from'),
    data: DataProvenanceSchema,
    backend: z.string(),
    gitCommit: z.string(),
    /** Frozen regime: length of the flattened features the head takes. */
    flattenSize: positiveInt.optional(),
    /** Partial regime: layers frozen, the base's layer count and the cut tensors. */
    frozenLayers: z.number().int().optional(),
    baseLayers: positiveInt.optional(),
    cut: z.array(z.object({ name: z.string(), shape: z.array(z.number()), size: z.number() })).min(1).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.patches.size !== m.inputSize) ctx.addIssue({ code: 'custom', path: ['patches', 'size'], message: `${m.patches.size} differs from inputSize (${m.inputSize})` });
    if (m.regime === 'frozen' && m.flattenSize === undefined) ctx.addIssue({ code: 'custom', path: ['flattenSize'], message: 'must be a positive integer (frozen regime)' });
    if (m.regime === 'partial') {
      if (m.frozenLayers === undefined) ctx.addIssue({ code: 'custom', path: ['frozenLayers'], message: 'must be an integer (partial regime)' });
      if (m.baseLayers === undefined) ctx.addIssue({ code: 'custom', path: ['baseLayers'], message: 'must be a positive integer (partial regime)' });
      if (m.cut === undefined) ctx.addIssue({ code: 'custom', path: ['cut'], message: 'must list the cut tensors (partial regime)' });
    }
    if (m.weights.kind === 'imagenet' && !/^[0-9a-f]{64}$/.test(m.weights.sha256)) ctx.addIssue({ code: 'custom', path: ['weights', 'sha256'], message: `must be 64 hex digits, got ${JSON.stringify(m.weights.sha256)}` });
  });
export type ModelMeta = z.infer<typeof ModelMetaSchema>;
