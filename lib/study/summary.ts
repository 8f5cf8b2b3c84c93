/**
 * Summary table of a sweep (one row per run, plus means per backbone x regime x kind x n) and the
 * kept models for the scoring tool.
 */
import * as fs from 'fs';
import * as path from 'path';
import { type BaselineRecord, compareById, MODEL_META_SCHEMA, ModelMetaSchema, checkValue, ResultsDir, SUMMARY_SCHEMA, tryReadRunRecord, type ModelMeta, type RunRecord, type SummaryRow } from '../records';
import { writeFileAtomic, writeJsonAtomic } from '../util/files';
import { runPaths } from './jobs';
import { mean } from '../util/stats';

export type { SummaryRow } from '../records';

/** Every valid record under `<out>/runs`, sorted by id; invalid ones are reported (file and field) and left out. */
export function readRecords(out: string, onInvalid: (message: string) => void = (m) => process.stderr.write(`${m}; left out\n`)): RunRecord[] {
  return new ResultsDir(out)
    .runRecordFiles()
    .map((f) => tryReadRunRecord(f, onInvalid))
    .filter((r): r is RunRecord => r !== undefined)
    .sort(compareById);
}

/** One flat row per run, then one per baseline (record 'baseline', backbone = the predictor, regime 'baseline'). */
export function summaryRows(records: readonly RunRecord[], baselines: readonly BaselineRecord[] = []): SummaryRow[] {
  const runs = records.map((r) => ({
    record: 'run',
    id: r.id,
    backbone: r.backbone,
    regime: r.regime,
    kind: r.kind,
    fold: r.fold,
    n: r.n,
    repeat: r.repeat,
    trainableParams: r.trainableParams,
    keptEpoch: r.metrics.keptEpoch,
    epochsRun: r.timings.epochsRun ?? r.history.length,
    minValLoss: r.metrics.minValLoss,
    trainMAE: r.metrics.trainMAE.overall,
    valMAE: r.metrics.valMAE.overall,
    testMAE: r.metrics.testMAE.overall,
    testMAE_GQR: r.metrics.testMAE.GQR,
    testMAE_PR: r.metrics.testMAE.PR,
    testMAE_DC: r.metrics.testMAE.DC,
    testVolumeMAE: r.metrics.volumeMAE.test.overall,
    testVolumeMAE_GQR: r.metrics.volumeMAE.test.GQR,
    testVolumeMAE_PR: r.metrics.volumeMAE.test.PR,
    testVolumeMAE_DC: r.metrics.volumeMAE.test.DC,
    testCoV_GQR: r.metrics.testCoV.GQR,
    testCoV_PR: r.metrics.testCoV.PR,
    testCoV_DC: r.metrics.testCoV.DC,
    randomLabelMAE: r.metrics.randomLabelMAE,
    failedToTrain: r.metrics.failedToTrain,
    weights: r.provenance.weights.kind === 'pretext' ? r.provenance.weights.label : r.provenance.weights.kind,
    backend: r.provenance.backend,
    trainSeconds: r.timings.trainSeconds ?? NaN,
  }));
  // Sorted by id: the same rows whatever order they were fitted or merged in.
  const base = [...baselines].sort(compareById).map((b) => ({
    record: 'baseline',
    id: b.id,
    backbone: b.predictor,
    regime: 'baseline',
    kind: b.kind,
    fold: b.fold,
    n: b.n,
    repeat: 0,
    trainableParams: b.predictor === 'constant' ? 3 : (b.model.features as unknown[]).length * 3 + 3,
    keptEpoch: 0,
    epochsRun: 0,
    minValLoss: b.metrics.minValLoss,
    trainMAE: b.metrics.trainMAE.overall,
    valMAE: b.metrics.valMAE.overall,
    testMAE: b.metrics.testMAE.overall,
    testMAE_GQR: b.metrics.testMAE.GQR,
    testMAE_PR: b.metrics.testMAE.PR,
    testMAE_DC: b.metrics.testMAE.DC,
    testVolumeMAE: b.metrics.volumeMAE.test.overall,
    testVolumeMAE_GQR: b.metrics.volumeMAE.test.GQR,
    testVolumeMAE_PR: b.metrics.volumeMAE.test.PR,
    testVolumeMAE_DC: b.metrics.volumeMAE.test.DC,
    testCoV_GQR: b.metrics.testCoV.GQR,
    testCoV_PR: b.metrics.testCoV.PR,
    testCoV_DC: b.metrics.testCoV.DC,
    randomLabelMAE: b.metrics.randomLabelMAE,
    failedToTrain: b.metrics.failedToTrain,
    weights: 'none',
    backend: 'none',
    trainSeconds: b.timings.totalSeconds ?? NaN,
  }));
  return [...runs, ...base];
}

/** Means over folds/repeats per backbone (or baseline predictor), regime, kind and n. */
export function aggregateRows(records: readonly RunRecord[], baselines: readonly BaselineRecord[] = []): SummaryRow[] {
  type Row = { backbone: string; regime: string; kind: string; n: number; trainableParams: number; metrics: RunRecord['metrics'] };
  const groups = new Map<string, Row[]>();
  const all: Row[] = [...records, ...baselines.map((b) => ({ backbone: b.predictor, regime: 'baseline', kind: b.kind, n: b.n, trainableParams: 0, metrics: b.metrics }))];
  for (const r of all) {
    const k = [r.backbone, r.regime, r.kind, r.n].join('|');
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  // Population standard deviation (n), as the summary has always reported it.
  const std = (xs: number[]) => {
    const m = mean(xs);
    return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
  };
  return [...groups.values()].map((rs) => ({
    backbone: rs[0].backbone,
    regime: rs[0].regime,
    kind: rs[0].kind,
    n: rs[0].n,
    runs: rs.length,
    trainableParams: rs[0].trainableParams,
    minValLoss: mean(rs.map((r) => r.metrics.minValLoss)),
    trainMAE: mean(rs.map((r) => r.metrics.trainMAE.overall)),
    testMAE: mean(rs.map((r) => r.metrics.testMAE.overall)),
    testMAE_std: std(rs.map((r) => r.metrics.testMAE.overall)),
    testVolumeMAE: mean(rs.map((r) => r.metrics.volumeMAE.test.overall)),
    failed: rs.filter((r) => r.metrics.failedToTrain).length,
  }));
}

/** How far below the constant predictor's per-volume MAE a backbone must be to count as learning something. */
export const BEATS_CONSTANT_MARGIN = 0.1;

/**
 * A few lines that say what the runs show: at the largest training size of the fold runs, the mean test
 * MAE (per patch / per volume) of the constant and handcrafted baselines and of every backbone and regime,
 * each on the same folds, and which backbones are no better than predicting the training mean.
 */
export function againstBaselines(records: readonly RunRecord[], baselines: readonly BaselineRecord[]): string[] {
  const folds = records.filter((r) => r.kind === 'fold');
  if (folds.length === 0 || baselines.length === 0) return [];
  const n = Math.max(...folds.map((r) => r.n));
  const at = folds.filter((r) => r.n === n);
  const fmt = (xs: Array<{ metrics: RunRecord['metrics'] }>) => ({ patch: mean(xs.map((x) => x.metrics.testMAE.overall)), volume: mean(xs.map((x) => x.metrics.volumeMAE.test.overall)) });
  const lines: string[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const r of at) groups.set(`${r.regime}|${r.backbone}`, [...(groups.get(`${r.regime}|${r.backbone}`) ?? []), r]);
  let header = false;
  const weak: string[] = [];
  for (const [key, rs] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const foldSet = new Set(rs.map((r) => r.fold));
    const same = (b: BaselineRecord) => b.kind === 'fold' && b.n === n && foldSet.has(b.fold);
    const constant = baselines.filter((b) => b.predictor === 'constant' && same(b));
    const hand = baselines.filter((b) => b.predictor === 'handcrafted-ridge' && same(b));
    if (constant.length === 0) continue;
    const [regime, backbone] = key.split('|');
    const m = fmt(rs);
    const c = fmt(constant);
    if (!header) {
      lines.push(`test MAE at n = ${n}, per patch / per volume, means over a backbone's folds; the baselines on the same folds:`);
      header = true;
    }
    const h = hand.length ? fmt(hand) : undefined;
    const w = rs[0].provenance.weights as { kind: string; label?: string };
    const pair = (x: { patch: number; volume: number }) => `${x.patch.toFixed(3)} / ${x.volume.toFixed(3)}`;
    lines.push(
      `  ${regime.padEnd(7)} ${backbone.padEnd(18)} ${pair(m)}  constant ${pair(c)}, handcrafted ridge ${h ? pair(h) : 'n/a'} (${rs.length} fold(s); ${w.label ?? w.kind})`,
    );
    if (m.volume > c.volume - BEATS_CONSTANT_MARGIN) weak.push(`${regime} ${backbone}`);
  }
  if (weak.length) {
    lines.push(`  no better than predicting the training mean (per volume within ${BEATS_CONSTANT_MARGIN} of the constant): ${weak.join(', ')}`);
  }
  return lines;
}

function csvOf(rows: SummaryRow[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => {
    const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/**
 * Writes `<out>/summary.csv` (one row per run and baseline, through danfojs when it loads, else a plain writer)
 * and `<out>/summary.json` (rows + aggregate).
 */
export async function writeSummary(out: string, records: readonly RunRecord[], baselines: readonly BaselineRecord[] = []): Promise<{ csv: string; json: string; rows: number }> {
  const rows = summaryRows(records, baselines);
  const aggregate = aggregateRows(records, baselines);
  const dir = new ResultsDir(out);
  const csv = dir.summaryCsv;
  const json = dir.summaryJson;
  let text: string | undefined;
  if (rows.length > 0) {
    try {
      // danfojs-node pulls a tfjs of its own; load it only here, after the runs.
      const dfd = require('danfojs-node') as { DataFrame: new (rows: SummaryRow[]) => unknown; toCSV: (df: unknown, opts?: { download?: boolean }) => string };
      const df = new dfd.DataFrame(rows);
      text = dfd.toCSV(df, { download: false }) as string;
    } catch {
      text = undefined;
    }
  }
  writeFileAtomic(csv, text ?? csvOf(rows));
  writeJsonAtomic(json, { schema: SUMMARY_SCHEMA, runs: rows, aggregate });
  return { csv, json, rows: rows.length };
}

/** Metadata a scoring tool needs to use a kept model (the schema lives in lib/records). */
export type KeptModelMeta = ModelMeta;

function copyDir(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dst, f));
}

/** The meta.json of a kept model, checked against its schema before it is written (`file` names it in errors). */
function metaOf(rs: RunRecord[], kind: 'fold' | 'ensemble', file: string): KeptModelMeta {
  const r = rs[0];
  const c = r.provenance.config;
  return checkValue(file, {
    schema: MODEL_META_SCHEMA,
    backbone: r.backbone,
    regime: r.regime,
    kind,
    input: r.regime === 'frozen' ? 'flattened backbone output (BN folded into convolutions when foldBN), rows of length flattenSize' : 'activations of the frozen prefix at the cut (one input per cut tensor, see cut)',
    weights: r.provenance.weights,
    inputSize: c.inputSize as number,
    preprocessing: c.preprocessing,
    patches: c.patches,
    foldBN: c.foldBN,
    ...(r.regime === 'partial' ? { frozenLayers: c.frozenLayers, cut: c.cut, baseLayers: c.baseLayers } : { flattenSize: c.flattenSize }),
    labelScale: { min: 0, max: 3, outputs: ['GQR', 'PR', 'DC'] },
    runs: rs.map((x, i) => ({ id: x.id, ...(kind === 'ensemble' ? { member: `member${i}` } : {}), minValLoss: x.metrics.minValLoss, testMAE: x.metrics.testMAE, seed: x.seed })),
    data: r.provenance.data,
    backend: r.provenance.backend,
    gitCommit: r.provenance.gitCommit,
  }, ModelMetaSchema, 'model metadata');
}

/**
 * `<out>/models/<backbone>__<regime>/`: the fold run with the lowest validation loss at the largest
 * n; `<out>/models/<backbone>__<regime>__ensemble/member<r>/`: the ensemble at the largest n.
 * Each folder has model.json + weights.bin (TensorFlow.js layers format) and meta.json.
 */
export function collectModels(out: string, records: readonly RunRecord[]): string[] {
  const written: string[] = [];
  const byKey = new Map<string, RunRecord[]>();
  for (const r of records) {
    const k = `${r.backbone}__${r.regime}${r.kind === 'ensemble' ? '__ensemble' : ''}`;
    byKey.set(k, [...(byKey.get(k) ?? []), r]);
  }
  for (const [k, rs] of byKey) {
    const maxN = Math.max(...rs.map((r) => r.n));
    const atN = rs.filter((r) => r.n === maxN && fs.existsSync(runPaths(out, r.id).model));
    if (atN.length === 0) continue;
    const dir = new ResultsDir(out).model(k);
    fs.rmSync(dir, { recursive: true, force: true });
    // A random-init backbone's calibrated BN statistics travel with the model (same relative path).
    const cal = rs[0].provenance.weights.kind === 'random init' ? rs[0].provenance.weights.bnCalibration : undefined;
    const copyCalibration = () => {
      // Pretext weights travel with the model too (lib/score looks there first).
      const w = rs[0].provenance.weights;
      if (w.kind === 'pretext' && fs.existsSync(w.file)) {
        const dst = path.join(dir, 'pretext', path.basename(w.file));
        fs.mkdirSync(path.dirname(dst), { recursive: true });
        fs.copyFileSync(w.file, dst);
      }
      if (!cal) return;
      const dst = path.join(dir, cal.file);
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.copyFileSync(path.join(out, cal.file), dst);
    };
    if (k.endsWith('__ensemble')) {
      const members = atN.sort((a, b) => a.repeat - b.repeat);
      members.forEach((r, i) => copyDir(runPaths(out, r.id).model, path.join(dir, `member${i}`)));
      copyCalibration();
      writeJsonAtomic(path.join(dir, 'meta.json'), metaOf(members, 'ensemble', path.join(dir, 'meta.json')));
    } else {
      const best = atN.reduce((a, b) => (b.metrics.minValLoss < a.metrics.minValLoss ? b : a));
      copyDir(runPaths(out, best.id).model, dir);
      copyCalibration();
      writeJsonAtomic(path.join(dir, 'meta.json'), metaOf([best], 'fold', path.join(dir, 'meta.json')));
    }
    written.push(dir);
  }
  return written;
}
