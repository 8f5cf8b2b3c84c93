/**
 * Turns the predictions of a trained run into the `metrics` block of a RunRecord.
 */
import type { RunRecord } from '../types';
import { covOf, failedToTrain, maeOf, randomLabelMAE, volumeMaeOf, type FailCriteria } from './metrics';

export interface EvaluateArgs {
  labels: Float32Array;
  train: ArrayLike<number>;
  validation: ArrayLike<number>;
  test: ArrayLike<number>;
  /** Predictions of the kept model, rows x 3 in the order of each index set. */
  predictions: { train: Float32Array; validation: Float32Array; test: Float32Array };
  keptEpoch: number;
  minValLoss: number;
  /** The volume (reconstruction) of every dataset row, for the per-volume MAE (lib/study volumeIdsOf). */
  volumes: ArrayLike<string>;
  criteria?: FailCriteria;
}

/** MAE per set (per patch and per volume), test CoV, random-label MAE of the training labels and the failed-to-train decision. */
export function evaluateRun(args: EvaluateArgs): RunRecord['metrics'] {
  const trainMAE = maeOf(args.predictions.train, args.labels, args.train);
  const valMAE = maeOf(args.predictions.validation, args.labels, args.validation);
  const testMAE = maeOf(args.predictions.test, args.labels, args.test);
  const testCoV = covOf(args.predictions.test);
  const random = randomLabelMAE(args.labels, args.train).overall;
  const fail = failedToTrain(trainMAE, testCoV, random, args.criteria);
  return {
    keptEpoch: args.keptEpoch,
    minValLoss: args.minValLoss,
    trainMAE,
    valMAE,
    testMAE,
    testCoV,
    volumeMAE: {
      train: volumeMaeOf(args.predictions.train, args.labels, args.train, args.volumes),
      validation: volumeMaeOf(args.predictions.validation, args.labels, args.validation, args.volumes),
      test: volumeMaeOf(args.predictions.test, args.labels, args.test, args.volumes),
    },
    randomLabelMAE: random,
    failedToTrain: fail.failed,
    ...(fail.reason ? { failReason: fail.reason } : {}),
  };
}
