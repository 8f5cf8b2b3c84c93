/**
 * Types shared between stages. Each stage owns its own module; these are the contracts between them.
 */

/** A 3-D scalar image. Voxel (i, j, k) is at data[i + nx * (j + ny * k)] (NIfTI order, i fastest). */
export interface Volume {
  data: Float32Array;
  /** [nx, ny, nz] */
  dims: [number, number, number];
  /** Voxel size in mm along i, j, k. */
  voxelSize: [number, number, number];
  /** 4 x 4 voxel-index -> world (mm) matrix, row-major rows. */
  affine: number[][];
  /** Intensity units, for example 'Bq/ml'; undefined when unknown. */
  units?: string;
}

/** The three clinical quality metrics, in the order of the Dense(3) outputs. */
export const METRICS = ['GQR', 'PR', 'DC'] as const;
export type MetricName = (typeof METRICS)[number];
export type MetricTriple = Record<MetricName, number>;

/** Count levels (percent of full counts) of the paper. */
export const COUNT_LEVELS = [0.5, 1, 5, 10, 25, 50, 100] as const;

export type Regime = 'frozen' | 'partial';
export type PreprocessingMode = 'caffe' | 'tf' | 'torch' | 'none';

/** Where a model's ImageNet weights came from; every result carries one. */
export type WeightsProvenance =
  | { kind: 'imagenet'; file: string; sha256: string; md5?: string }
  | { kind: 'random init'; seed: number; bnCalibration?: BatchNormCalibrationProvenance }
  | PretextWeightsProvenance;

/**
 * Weights of a backbone pretrained from random init on a label-free pretext task (lib/pretext) on
 * the non-test patients of a cohort; `label` is what records and figures show, for example
 * 'pretext (count level, quick)'.
 */
export interface PretextWeightsProvenance {
  kind: 'pretext';
  /** 'count-level': regress ln(count %) of patches. */
  task: string;
  label: string;
  /** Absolute path of the Keras .h5 file. */
  file: string;
  sha256: string;
  /** Cohort name (the manifest's folder). */
  cohort: string;
  manifestSha256: string;
  /** lib/patches key of the pretext patch set. */
  patchSetHash: string;
  /** Patients whose patches were trained on or checked against; never a test patient. */
  patients: string[];
  /** Patients never read (the study's test patients). */
  excludedPatients: string[];
  steps: number;
  seed: number;
  /** Mean training loss of the last 10 % of steps (standardised ln count). */
  finalLoss: number;
  /** Inference-mode MAE (ln count %) on the held-out check patients. */
  checkMAE: number;
  /** Cache key (lib/pretext pretextKey). */
  key: string;
}

/**
 * A random-init backbone's BatchNormalization statistics measured on patches of the training data
 * (lib/backbones calibrateBatchNorm), so its features do not vanish; the statistics are saved next
 * to the results and the models.
 */
export interface BatchNormCalibrationProvenance {
  /** Patches the statistics were measured on. */
  images: number;
  /** Patients those patches came from (never test patients). */
  patients: string[];
  /** Seed of the patch choice. */
  seed: number;
  /** sha256 of the saved statistics file (JSON). */
  sha256: string;
  /** File name of the statistics, relative to the results folder or model folder. */
  file: string;
}

/** One training run of the study (`<out>/runs/<id>.json`): inferred from its zod schema in lib/records. */
export type { RunRecord } from './records/schema';
