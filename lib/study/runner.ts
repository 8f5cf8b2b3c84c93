/**
 * The resumable study runner: cohort -> patches -> design -> cached frozen work -> runs -> records,
 * summary and kept models. Finished runs (their record exists) are skipped, so a killed sweep
 * resumes; `shard` splits the run list deterministically between machines.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as cp from 'cli-progress';
import { initBackend } from '../backend';
import { buildBackbone } from '../backbones';
import { calibrateBatchNorm, readBatchNormStats } from '../backbones/calibrate';
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import { makeDesign, type StudyDesign } from '../design/design';
import { ensureCohort } from '../workspace/cohort';
import { resultsDirFor } from '../workspace/paths';
import { readDesign } from '../records';
import { toBackboneInput } from '../patches/dataset';
import type { Regime, RunRecord, WeightsProvenance } from '../types';
import { gitCommit, machineInfo } from '../util/provenance';
import { digest, stableStringify, writeFileAtomic, writeJsonAtomic } from '../util/files';
import { Rng, deriveSeed } from '../util/rng';
import { concatRows, defaultFeatureCacheDir, featureCacheKey, hasFeatureCache, writeFeatureCache } from '../train/features';
import { resolveStudyWeights, studyPretextResolver } from '../pretext/resolve';
import { IMAGENET, type PretextWeightsResolver, type WeightsSource } from '../weights/source';
import { prepareStudyWeights } from './weights';
import { loadStudyData, patientsOf, type DataSource, type StudyDataset } from './data';
import { extractTargetTag, frozenLayerCount, type ExtractTarget } from '../transfer';
import { builder, cacheKeyArgs, calibrationFile, loadBase, preprocessingOf, readRecord, runPaths, type ExtractResult, type StudyContext } from './jobs';
import { PLAN_FILE, type StudyPlanFile } from './merge';
import { claimOrWait, ClaimSet, forEachClaimed, type ClaimedWork } from './claims';
import { planRuns, shardRuns, type RunSpec } from './plan';
import { WorkerPool } from './pool';
import { getPreset, type StudyPreset } from './presets';
import { againstBaselines, collectModels, readRecords, writeSummary } from './summary';
import { writeBaselines } from './baselines';
import { defaultWorkerCount } from '../util/workers';

export interface StudyArgs {
  /** Preset name or a preset object. */
  preset: string | StudyPreset;
  /** Output folder. Default `<project>/results/<preset>`. */
  out?: string;
  /** Subset of the preset's backbones (or others). */
  backbones?: string[];
  /** 'frozen' | 'partial' | 'both'. Default: the preset's. */
  regime?: 'frozen' | 'partial' | 'both';
  /** This machine's shard. Default the whole sweep. */
  shard?: { index: number; count: number };
  /**
   * Where the weights come from. Default ImageNet: missing files are downloaded; when that fails, a
   * random init with one loud banner (the paper preset refuses; it needs { kind: 'random' } given).
   */
  weights?: WeightsSource;
  /** Makes pretext-pretrained weights. Default: lib/pretext pretrains on the study's cohort (test patients excluded), cached. */
  pretext?: PretextWeightsResolver;
  /** Worker threads; 0 runs inline. Default min(2, cpus). */
  workers?: number;
  /** Data: default the preset's cohort under results/cohorts/<cohort> (generated when missing). */
  data?: DataSource;
  /** Verify the manifest's sha256 of every reconstruction before use (default true; false = `--no-verify`, recorded in every run's data provenance). */
  verifyChecksums?: boolean;
  /** Feature cache folder. Default results/cache/features. */
  cacheDir?: string;
  /** Test double for the backbone builders (module exporting buildBackbone). */
  builderModule?: string;
  /** Backend to force in workers. */
  backend?: string;
  /** Show progress bars (default: when stderr is a TTY; otherwise periodic log lines). */
  progress?: boolean;
  /** Log lines (default stderr). */
  log?: (line: string) => void;
  /** Stop after this many runs (for timed subsets). */
  maxRuns?: number;
  /**
   * For random-init backbones, measure BatchNormalization statistics on patches of non-test
   * patients (see calibrateBatchNorm) so features do not vanish. Default true; recorded in every run.
   */
  calibrateRandomBN?: boolean;
}

export interface StudyResult {
  out: string;
  design: StudyDesign;
  planned: number;
  skipped: number;
  ran: number;
  /** Ids of the runs this process ran (others may have been claimed by another process). */
  ranIds: string[];
  records: RunRecord[];
  extractSeconds: number;
  runSeconds: number;
  backend: string;
}

/** A progress display: cli-progress bars on a TTY, else a log line every ~10 %. */
class Progress {
  private bar: { start: (t: number, v: number, p?: object) => void; update: (v: number, p?: object) => void; stop: () => void } | undefined;
  private total = 0;
  private lastLogged = -1;
  constructor(
    private useBars: boolean,
    private log: (s: string) => void,
  ) {}
  start(label: string, total: number): void {
    this.total = total;
    this.lastLogged = -1;
    if (this.useBars) {
      const b = new cp.SingleBar({ format: `${label.padEnd(9)} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, etaBuffer: 20 }, cp.Presets.shades_classic);
      b.start(total, 0, { info: '' });
      this.bar = b;
    } else {
      this.log(`${label}: 0/${total}`);
      this.label = label;
    }
  }
  private label = '';
  update(value: number, info = ''): void {
    if (this.bar) this.bar.update(value, { info });
    else {
      const decile = Math.floor((10 * value) / Math.max(this.total, 1));
      if (decile !== this.lastLogged) {
        this.lastLogged = decile;
        this.log(`${this.label}: ${value}/${this.total} ${info}`);
      }
    }
  }
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** Runs (or resumes) a sweep. */
export async function runStudy(args: StudyArgs): Promise<StudyResult> {
  const log = args.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const preset = typeof args.preset === 'string' ? getPreset(args.preset) : structuredClone(args.preset);
  const out = path.resolve(args.out ?? resultsDirFor(preset.name));
  // Names checked (unknown ones listed with the valid names) and typed here, once.
  const backbones: BackboneName[] = args.backbones?.length ? args.backbones.map((b) => getBackboneSpec(b).name) : preset.backbones;
  const regimes: Regime[] = !args.regime ? preset.regimes : args.regime === 'both' ? ['frozen', 'partial'] : [args.regime];
  if (!regimes.every((r) => r === 'frozen' || r === 'partial')) throw new Error(`--regime must be frozen, partial or both, got '${args.regime}'`);
  const workers = args.workers ?? defaultWorkerCount();
  const weights = args.weights ?? IMAGENET;
  const cacheDir = args.cacheDir ?? defaultFeatureCacheDir();
  const imagenet = await prepareStudyWeights({ preset, backbones, weights, log, pretext: args.pretext });
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });

  // Data and design (main process; lib/patches caches the patches by content).
  const data: DataSource = args.data ?? {
    kind: 'manifest',
    manifestPath: await ensureCohort(preset.cohort, log),
    patchConfig: { ...preset.patches },
    verifyChecksums: args.verifyChecksums ?? true,
  };
  const { ds, provenance: dataProv, testPatients } = await loadStudyData(data);
  const design = makeDesign(patientsOf(ds), { ...preset.design, seed: preset.design.seed ?? preset.seed }, testPatients);
  const designFile = path.join(out, 'design.json');
  if (fs.existsSync(designFile)) {
    const old = readDesign(designFile);
    if (stableStringify(old) !== stableStringify(design)) {
      throw new Error(`${designFile} differs from the design of this preset and data; use another --out or delete the folder`);
    }
  } else writeJsonAtomic(designFile, design);

  const choice = await initBackend({ ...(args.backend ? { backend: args.backend } : {}), workers });
  const ctx: StudyContext = {
    out,
    preset,
    weights,
    data,
    cacheDir,
    builderModule: args.builderModule,
    backend: args.backend ?? choice.candidate,
    gitCommit: gitCommit(),
    machine: { ...machineInfo(), workers },
    calibrateRandomBN: args.calibrateRandomBN ?? true,
  };

  const all = planRuns({ design, backbones, regimes, partial: preset.partial, seed: preset.seed });
  const mine = args.shard ? shardRuns(all, args.shard) : all;
  writeJsonAtomic(path.join(out, PLAN_FILE), { schema: 'pet-iqa/plan@1', preset: preset.name, runIds: all.map((r) => r.id) } satisfies StudyPlanFile);
  const todo = mine.filter((r) => !readRecord(runPaths(out, r.id).record));
  const limited = args.maxRuns !== undefined ? todo.slice(0, args.maxRuns) : todo;
  log(
    `study '${preset.name}': ${all.length} runs planned${args.shard ? `, shard ${args.shard.index}/${args.shard.count}: ${mine.length}` : ''}, ` +
      `${mine.length - todo.length} done, ${limited.length} to run; out ${out}; backend ${choice.backend}; ${workers} worker(s); data ${dataProv.kind} ${dataProv.patchSetHash} (${ds.count} patches of ${ds.size}x${ds.size})`,
  );

  const pool = new WorkerPool(ctx, workers);
  const progress = new Progress(args.progress ?? process.stderr.isTTY === true, log);
  let extractSeconds = 0;
  let runSeconds = 0;
  let claimed: ClaimedWork = { ran: [], busy: [], doneElsewhere: [] };
  const extractionClaims = new ClaimSet();
  try {
    const backends = workers > 0 ? await pool.backends() : [choice.backend];
    const backend = backends[0];
    if (backends.some((b) => b !== backend)) throw new Error(`workers chose different backends: ${backends.join(', ')}`);

    // Frozen work, once per backbone: what the pending runs need and the cache lacks. The weights
    // are resolved (found, hashed, warned about) once, here; workers load what this decided.
    const prov = new Map<string, WeightsProvenance>();
    const needs: Array<{ backbone: BackboneName; target: ExtractTarget; key: string }> = [];
    for (const r of limited) {
      if (!prov.has(r.backbone)) {
        const { provenance: resolved } = await resolveStudyWeights(r.backbone as BackboneName, {
          weights,
          located: imagenet.get(r.backbone as BackboneName),
          seed: ctx.preset.seed,
          log,
          preset,
          testPatients: design.testPatients,
          backend: args.backend,
          manifestPath: data.kind === 'manifest' ? data.manifestPath : undefined,
        });
        prov.set(r.backbone, ctx.calibrateRandomBN ? await calibrateRandomInit(ctx, r.backbone, resolved, ds, design, log) : resolved);
      }
      const target: ExtractTarget =
        r.regime === 'partial' ? { kind: 'cut', frozenLayers: frozenLayerCount(await baseLayerCount(ctx, r.backbone), preset.partialFrozenFraction) } : { kind: 'features' };
      const key = featureCacheKey(cacheKeyArgs(ctx, r.backbone, target, prov.get(r.backbone)!, dataProv.patchSetHash, backend));
      if (!needs.some((n) => n.key === key) && !hasFeatureCache(cacheDir, key)) needs.push({ backbone: r.backbone, target, key });
    }
    if (needs.length > 0) {
      const t0 = performance.now();
      const chunks = Math.max(1, workers);
      const total = needs.length * ds.count;
      let doneAll = 0;
      progress.start('features', total);
      for (const need of needs) {
        // Another process extracting the same features: wait for its cache rather than redo it.
        if (!extractionClaims.add(await claimOrWait(path.join(cacheDir, `${need.key}.lock`), () => hasFeatureCache(cacheDir, need.key), `features ${need.backbone} ${extractTargetTag(need.target)}`, { log }))) continue;
        const blocks = Array.from({ length: chunks }, (_, i) => [Math.floor((i * ds.count) / chunks), Math.floor(((i + 1) * ds.count) / chunks)]).filter(([a, b]) => b > a);
        const seen = new Array(blocks.length).fill(0);
        const tb = performance.now();
        const provenance = prov.get(need.backbone)!;
        const parts = await Promise.all(
          blocks.map(([start, end], i) =>
            pool.run<ExtractResult>(
              { type: 'extract', backbone: need.backbone, target: need.target, start, end },
              { backend, provenance },
              (done) => {
                doneAll += done - seen[i];
                seen[i] = done;
                const rate = (seen.reduce((a, b) => a + b, 0) / ((performance.now() - tb) / 1000)).toFixed(1);
                progress.update(doneAll, `${need.backbone} ${extractTargetTag(need.target)} ${rate} img/s`);
              },
            ),
          ),
        );
        const arrays = concatRows(parts.map((p) => p.arrays));
        writeFeatureCache(cacheDir, need.key, cacheKeyArgs(ctx, need.backbone, need.target, provenance, dataProv.patchSetHash, backend), arrays, parts[0].shapes, (performance.now() - tb) / 1000);
      }
      progress.stop();
      extractSeconds = (performance.now() - t0) / 1000;
    }

    // Runs. Frozen runs of one backbone share its features: keep them in backbone order.
    if (limited.length > 0) {
      const t0 = performance.now();
      let done = 0;
      progress.start('runs', limited.length);
      // Each run is claimed first (lib/study/claims), so processes sharing this folder split the runs.
      const isDone = (spec: RunSpec) => readRecord(runPaths(out, spec.id).record) !== undefined;
      claimed = await forEachClaimed(limited, { lockDir: path.join(out, 'runs'), lanes: workers, isDone, log }, (spec) =>
        pool.run<{ id: string; testMAE: number }>({ type: 'run', spec }, { backend, provenance: prov.get(spec.backbone)! }).then((r) => {
          done++;
          progress.update(done, `${r.id} test MAE ${r.testMAE.toFixed(3)}`);
        }),
      );
      progress.stop();
      runSeconds = (performance.now() - t0) / 1000;
    }
  } finally {
    extractionClaims.releaseAll();
    progress.stop();
    await pool.close();
  }
  if (claimed.busy.length + claimed.doneElsewhere.length > 0) log(`${claimed.busy.length} run(s) claimed by another process, ${claimed.doneElsewhere.length} finished by one`);

  const records = readRecords(out);
  const baselines = writeBaselines({ out, plan: all, ds, data: dataProv, preset: preset.name, gitCommit: ctx.gitCommit, machine: ctx.machine, cacheDir, log });
  const summary = await writeSummary(out, records, baselines);
  const models = collectModels(out, records);
  log(`wrote ${summary.rows} rows to ${summary.csv}; ${models.length} kept model folder(s) under ${path.join(out, 'models')}`);
  for (const line of againstBaselines(records, baselines)) log(line);
  return { out, design, planned: mine.length, skipped: mine.length - todo.length, ran: claimed.ran.length, ranIds: claimed.ran, records, extractSeconds, runSeconds, backend: ctx.backend ?? '' };
}

/** Patches the BN statistics of a random-init backbone are measured on. */
const CALIBRATION_IMAGES = 64;

/**
 * A random-init backbone's BN statistics, measured once in the main process on a seeded choice of
 * patches of non-test patients and saved as `<out>/calibration/<backbone>.bn.json`; workers apply
 * that file (see loadBase). Returns the provenance extended with what was done.
 */
async function calibrateRandomInit(
  ctx: StudyContext,
  backbone: BackboneName,
  prov: WeightsProvenance,
  ds: StudyDataset,
  design: StudyDesign,
  log: (s: string) => void,
): Promise<WeightsProvenance> {
  if (prov.kind !== 'random init') return prov;
  const test = new Set(design.testPatients);
  const patients = patientsOf(ds).filter((p) => !test.has(p));
  const pool: number[] = [];
  for (let i = 0; i < ds.count; i++) if (!test.has(ds.patchPatient[i])) pool.push(i);
  const seed = deriveSeed(ctx.preset.seed, 'bn-calibration', backbone);
  const chosen = new Rng(seed).sample(pool, Math.min(CALIBRATION_IMAGES, pool.length));
  const { model } = await loadBase({ ...ctx, calibrateRandomBN: false }, backbone, prov);
  const x = toBackboneInput(ds, chosen, preprocessingOf(backbone));
  const report = calibrateBatchNorm(model, x);
  x.dispose();
  const text = JSON.stringify(readBatchNormStats(model));
  model.dispose();
  const rel = calibrationFile(backbone);
  writeFileAtomic(path.join(ctx.out, rel), text);
  log(`${backbone}: random init, BatchNormalization statistics of ${report.layers} layers measured on ${chosen.length} patches of ${patients.length} non-test patients (${rel})`);
  return { ...prov, bnCalibration: { images: chosen.length, patients, seed, sha256: digest(text), file: rel } };
}

const layerCounts = new Map<string, number>();

/** len(base.layers) of a backbone (built once, without weights). */
async function baseLayerCount(ctx: StudyContext, backbone: BackboneName): Promise<number> {
  const k = `${ctx.builderModule ?? ''}|${backbone}|${ctx.preset.patches.size}`;
  if (!layerCounts.has(k)) {
    const build = builder(ctx) ?? buildBackbone;
    const m = build(backbone, { inputSize: ctx.preset.patches.size, seed: 0 });
    layerCounts.set(k, m.layers.length);
    m.dispose();
  }
  return layerCounts.get(k)!;
}
