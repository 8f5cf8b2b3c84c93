/**
 * Merges the results folders of a sharded sweep (`reproduce --shard i/N --out DIR_i`) into one
 * results folder: the same design in every shard, each run once (a run found in several shards
 * must agree, apart from timings and when/where it ran), the runs' kept models, then the summary
 * and collected models as the runner writes them. Runs planned (each shard's plan.json) but found
 * in no shard are reported. The output folder is built aside and renamed into place at the end.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { RunRecord } from '../types';
import { stableStringify, writeJsonAtomic } from '../util/files';
import { readRecord, runPaths } from './jobs';
import { collectModels, writeSummary } from './summary';
import { readBaselines } from './baselines';
import { ResultsDir, compareById, type BaselineRecord } from '../records';

/** The runner's record of what a sweep planned (all shards, not only its own): `<out>/plan.json`. */
export interface StudyPlanFile {
  schema: 'pet-iqa/plan@1';
  preset: string;
  runIds: string[];
}
export const PLAN_FILE = 'plan.json';

export interface MergeShardsArgs {
  /** Results folders of the shards. */
  shards: string[];
  /** The merged folder; must not exist or be empty. */
  out: string;
}

export interface MergeReport {
  out: string;
  /** Records in the merged folder. */
  runs: number;
  /** Records per shard folder. */
  perShard: Array<{ dir: string; runs: number }>;
  /** Runs found in more than one shard (all agreeing). */
  duplicates: number;
  /** Runs planned by the shards but in none of them (empty when complete). */
  missing: string[];
  /** Runs planned in total (0 when no shard has a plan.json). */
  planned: number;
}

/** A record without what legitimately differs between two runs of the same spec. */
export function comparableRecord(r: RunRecord | BaselineRecord): unknown {
  const { timings: _t, provenance, ...rest } = r;
  const { startedAt: _s, finishedAt: _f, machine: _m, gitCommit: _g, ...prov } = provenance as typeof provenance & { backendDetail?: string };
  delete prov.backendDetail;
  return { ...rest, provenance: prov };
}

/** The first path where two JSON values differ, e.g. 'metrics.testMAE.overall'. */
function firstDifference(a: unknown, b: unknown, at = ''): string {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const va = (a as Record<string, unknown>)[k];
      const vb = (b as Record<string, unknown>)[k];
      if (stableStringify(va) !== stableStringify(vb)) return firstDifference(va, vb, at ? `${at}.${k}` : k);
    }
  }
  return at || '(value)';
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: ${fs.existsSync(file) ? `not JSON (${(e as Error).message})` : 'missing (is this a results folder of reproduce?)'}`);
  }
}

export async function mergeShards(args: MergeShardsArgs): Promise<MergeReport> {
  if (args.shards.length === 0) throw new Error('merge: no shard folders given');
  const out = path.resolve(args.out);
  const shards = args.shards.map((d) => path.resolve(d));
  if (shards.includes(out)) throw new Error(`merge: the output ${out} is one of the shard folders`);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) throw new Error(`merge: ${out} exists and is not empty`);

  // One design.
  const designFile = path.join(shards[0], 'design.json');
  const design = readJson<unknown>(designFile);
  for (const dir of shards.slice(1)) {
    const other = path.join(dir, 'design.json');
    if (stableStringify(readJson<unknown>(other)) !== stableStringify(design)) {
      throw new Error(`merge: ${other} and ${designFile} are different designs (field ${firstDifference(readJson(other), design)})`);
    }
  }

  // Planned runs: the union of the shards' plans.
  const planned = new Set<string>();
  let preset = '';
  for (const dir of shards) {
    const file = path.join(dir, PLAN_FILE);
    if (!fs.existsSync(file)) continue;
    const plan = readJson<StudyPlanFile>(file);
    if (plan.schema !== 'pet-iqa/plan@1' || !Array.isArray(plan.runIds)) throw new Error(`${file}: field schema/runIds: not a pet-iqa/plan@1 file`);
    if (preset && plan.preset !== preset) throw new Error(`merge: ${file} is preset '${plan.preset}', another shard '${preset}'`);
    preset = plan.preset;
    for (const id of plan.runIds) planned.add(id);
  }

  // Records: each run once; duplicates must agree.
  const chosen = new Map<string, { record: RunRecord; dir: string; file: string }>();
  const perShard: MergeReport['perShard'] = [];
  let duplicates = 0;
  for (const dir of shards) {
    const runsDir = path.join(dir, 'runs');
    const files = fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort() : [];
    let n = 0;
    for (const f of files) {
      const file = path.join(runsDir, f);
      const record = readRecord(file);
      if (!record) throw new Error(`${file}: not a run record (field schema must be 'pet-iqa/run@1')`);
      if (`${record.id}.json` !== f) throw new Error(`${file}: field id is '${record.id}', the file name says '${f}'`);
      n++;
      const seen = chosen.get(record.id);
      if (seen) {
        const a = comparableRecord(seen.record);
        const b = comparableRecord(record);
        if (stableStringify(a) !== stableStringify(b)) {
          throw new Error(`merge: run ${record.id} disagrees between ${seen.file} and ${file} (field ${firstDifference(a, b)})`);
        }
        duplicates++;
      } else chosen.set(record.id, { record, dir, file });
    }
    perShard.push({ dir, runs: n });
  }

  // Build aside, then rename into place.
  const tmp = `${out}.merging-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    fs.mkdirSync(path.join(tmp, 'runs'), { recursive: true });
    fs.copyFileSync(designFile, path.join(tmp, 'design.json'));
    // BatchNorm calibrations of random-init backbones (read by the kept models): one per backbone.
    for (const dir of shards) {
      const cal = path.join(dir, 'calibration');
      if (!fs.existsSync(cal)) continue;
      fs.mkdirSync(path.join(tmp, 'calibration'), { recursive: true });
      for (const f of fs.readdirSync(cal)) {
        const to = path.join(tmp, 'calibration', f);
        if (fs.existsSync(to)) {
          if (!fs.readFileSync(to).equals(fs.readFileSync(path.join(cal, f)))) throw new Error(`merge: ${path.join(cal, f)} differs from the same calibration in another shard`);
        } else fs.copyFileSync(path.join(cal, f), to);
      }
    }
    const ids = [...chosen.keys()].sort();
    if (planned.size > 0) writeJsonAtomic(path.join(tmp, PLAN_FILE), { schema: 'pet-iqa/plan@1', preset, runIds: [...planned] } satisfies StudyPlanFile);
    for (const id of ids) {
      const { dir, file } = chosen.get(id)!;
      const from = runPaths(dir, id);
      const to = runPaths(tmp, id);
      if (fs.existsSync(from.model)) fs.cpSync(from.model, to.model, { recursive: true });
      fs.copyFileSync(file, to.record);
    }
    const records = ids.map((id) => chosen.get(id)!.record);
    // Baselines: every shard fits those of the whole plan; the same baseline must agree across shards.
    const baselines = new Map<string, { record: BaselineRecord; dir: string }>();
    for (const dir of shards) {
      for (const b of readBaselines(dir)) {
        const seen = baselines.get(b.id);
        if (!seen) baselines.set(b.id, { record: b, dir });
        else if (stableStringify(comparableRecord(seen.record)) !== stableStringify(comparableRecord(b))) {
          throw new Error(`merge: baseline ${b.id} disagrees between ${new ResultsDir(seen.dir).baselineRecord(b.id)} and ${new ResultsDir(dir).baselineRecord(b.id)} (field ${firstDifference(comparableRecord(seen.record), comparableRecord(b))})`);
        }
      }
    }
    const mergedBaselines = [...baselines.values()].map((v) => v.record).sort(compareById);
    for (const b of mergedBaselines) writeJsonAtomic(new ResultsDir(tmp).baselineRecord(b.id), b);
    await writeSummary(tmp, records, mergedBaselines);
    collectModels(tmp, records);
    if (fs.existsSync(out)) fs.rmdirSync(out);
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const missing = [...planned].filter((id) => !chosen.has(id)).sort();
  return { out, runs: chosen.size, perShard, duplicates, missing, planned: planned.size };
}
