/**
 * Validation of a cohort manifest: the zod schema (types, ranges, unknown keys) plus the rules
 * that span fields (unique ids, known patients and raters, consensus where raters disagree,
 * files on disk, checksums). Every problem is reported at once, each with its field path.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { z } from 'zod/v4';
import { fileDigest } from '../util/files';
import { metricsNeedingConsensus } from './labels';
import { METRICS } from '../types';
import { cohortManifestSchema, scoreSchema, SHA256_RE, type CohortManifest, type Rating } from './schema';

/** One problem, e.g. `{ path: 'reconstructions[4].path', message: 'file not found (/abs/x.nii.gz)' }`. */
export interface ManifestProblem {
  /** Field path in the manifest (`reconstructions[4].ratings[1].GQR`); '' for the whole document. */
  path: string;
  message: string;
}

export interface ParseManifestOptions {
  /** Folder that reconstruction paths are relative to (the manifest's folder). */
  baseDir: string;
  /** Where the JSON came from, for messages only. */
  source?: string;
  /** Check that every reconstruction file exists. Default false. */
  checkFiles?: boolean;
  /** Check sha256 of every reconstruction that has one (reads the files that exist). Default false. */
  verifyChecksums?: boolean;
  /** How to hash a file for verifyChecksums (loadManifest passes a cached one). Default: read and hash it. */
  sha256Of?: (absolutePath: string) => string;
}

export interface ParseManifestResult {
  /** The typed manifest, present only when there are no problems. */
  manifest?: CohortManifest;
  problems: ManifestProblem[];
}

/** `a.b[3].c` from a zod path. */
export function formatFieldPath(parts: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** One line per problem: `path: message`. */
export function formatProblems(problems: ManifestProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('\n');
}

/** Validates manifest JSON. Never throws for bad content: problems come back in `problems`. */
export function parseManifest(json: unknown, opts: ParseManifestOptions): ParseManifestResult {
  const problems: ManifestProblem[] = [];
  if (!isObj(json)) {
    return { problems: [{ path: '', message: `${opts.source ?? 'manifest'}: must be a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}` }] };
  }
  const parsed = cohortManifestSchema.safeParse(json);
  if (!parsed.success) problems.push(...zodProblems(parsed.error, json));
  problems.push(...crossFieldProblems(json, opts));
  if (problems.length > 0 || !parsed.success) return { problems };
  return { manifest: parsed.data, problems };
}

function zodProblems(error: z.ZodError, json: unknown): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatFieldPath([...issue.path, key]), message: `unknown key "${key}" (typo?)` });
      }
    } else if (issue.code === 'invalid_type' && !hasPath(json, issue.path)) {
      out.push({ path: formatFieldPath(issue.path), message: 'required field is missing' });
    } else {
      out.push({ path: formatFieldPath(issue.path), message: issue.message });
    }
  }
  return out;
}

/** True when every key of `parts` exists in `json` (so a type error is a wrong value, not a missing field). */
function hasPath(json: unknown, parts: ReadonlyArray<PropertyKey>): boolean {
  let cur: unknown = json;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, p)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur !== undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Rules across fields, applied to whatever parts of the input are well-formed enough to check. */
function crossFieldProblems(json: Obj, opts: ParseManifestOptions): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const add = (p: string, message: string) => out.push({ path: p, message });

  // Patients: unique ids.
  const patientIndex = new Map<string, number>();
  arr(json.patients).forEach((p, i) => {
    const pid = isObj(p) ? str(p.id) : undefined;
    if (pid === undefined) return;
    const first = patientIndex.get(pid);
    if (first !== undefined) add(`patients[${i}].id`, `duplicate patient id "${pid}" (also patients[${first}])`);
    else patientIndex.set(pid, i);
  });
  const patientsKnown = Array.isArray(json.patients);

  // Raters: unique; when listed, ratings must use them.
  const raterList = Array.isArray(json.raters) ? json.raters.filter((r): r is string => typeof r === 'string') : undefined;
  if (raterList) {
    const seen = new Set<string>();
    raterList.forEach((r, i) => {
      if (seen.has(r)) add(`raters[${i}]`, `duplicate rater "${r}"`);
      seen.add(r);
    });
  }

  // Reconstructions.
  const reconIndex = new Map<string, number>();
  const levelIndex = new Map<string, number>();
  arr(json.reconstructions).forEach((r, i) => {
    if (!isObj(r)) return;
    const at = `reconstructions[${i}]`;
    const rid = str(r.id);
    if (rid !== undefined) {
      const first = reconIndex.get(rid);
      if (first !== undefined) add(`${at}.id`, `duplicate reconstruction id "${rid}" (also reconstructions[${first}])`);
      else reconIndex.set(rid, i);
    }
    const pid = str(r.patient);
    if (pid !== undefined && patientsKnown && !patientIndex.has(pid)) add(`${at}.patient`, `unknown patient "${pid}" (not in patients)`);
    if (pid !== undefined && typeof r.countPercent === 'number') {
      const key = `${pid}\u0000${r.countPercent}`;
      const first = levelIndex.get(key);
      if (first !== undefined) {
        add(`${at}.countPercent`, `patient "${pid}" already has a reconstruction at ${r.countPercent}% (reconstructions[${first}])`);
      } else {
        levelIndex.set(key, i);
      }
    }

    // Ratings: at most two, distinct raters, known raters; consensus where they disagree by >= 1.
    const ratings = arr(r.ratings);
    if (ratings.length > 2) add(`${at}.ratings`, `${ratings.length} ratings; the label rule is defined for 1 or 2 raters`);
    const ratersHere = new Map<string, number>();
    ratings.forEach((g, j) => {
      const rater = isObj(g) ? str(g.rater) : undefined;
      if (rater === undefined) return;
      if (ratersHere.has(rater)) add(`${at}.ratings[${j}].rater`, `rater "${rater}" already rated this reconstruction (ratings[${ratersHere.get(rater)}])`);
      else ratersHere.set(rater, j);
      if (raterList && !raterList.includes(rater)) add(`${at}.ratings[${j}].rater`, `unknown rater "${rater}" (raters: ${raterList.join(', ')})`);
    });
    if (ratings.length === 2 && ratings.every(isWellFormedRating) && r.consensus === undefined) {
      const ratingsTyped = ratings as Rating[];
      const needed = metricsNeedingConsensus({ ratings: ratingsTyped });
      if (needed.length > 0) {
        const detail = needed.map((m) => `${m} ${ratingsTyped[0][m]} vs ${ratingsTyped[1][m]}`).join(', ');
        add(`${at}.consensus`, `required: the raters differ by >= 1 on ${detail}`);
      }
    }

    // Paths: relative to the manifest's folder and inside it, unless the manifest allows otherwise.
    const rel = str(r.path);
    const outsideAllowed = json.allowPathsOutside === true;
    if (rel !== undefined && !outsideAllowed) {
      const escape = pathEscape(rel, opts.baseDir);
      if (escape) {
        add(`${at}.path`, `"${rel}" ${escape}; paths are relative to the manifest's folder (${opts.baseDir}) and stay inside it unless the manifest sets "allowPathsOutside": true`);
        return;
      }
    }

    // Files and checksums.
    if (rel !== undefined && (opts.checkFiles || opts.verifyChecksums)) {
      const abs = path.resolve(opts.baseDir, rel);
      let isFile = false;
      try {
        isFile = fs.statSync(abs).isFile();
      } catch {
        isFile = false;
      }
      if (!isFile) {
        if (opts.checkFiles) add(`${at}.path`, `file not found (${abs})`);
      } else if (opts.verifyChecksums && typeof r.sha256 === 'string' && SHA256_RE.test(r.sha256)) {
        const actual = (opts.sha256Of ?? ((f: string) => fileDigest(f, 'sha256')))(abs);
        if (actual !== r.sha256) {
          add(`${at}.sha256`, `checksum mismatch: ${abs} has sha256 ${actual}, the manifest says ${r.sha256} (the file changed or is another file)`);
        }
      }
    }
  });

  // Test patients: known and unique.
  if (Array.isArray(json.testPatients)) {
    const seen = new Set<string>();
    json.testPatients.forEach((t, i) => {
      if (typeof t !== 'string') return;
      if (patientsKnown && !patientIndex.has(t)) add(`testPatients[${i}]`, `unknown patient "${t}" (not in patients)`);
      if (seen.has(t)) add(`testPatients[${i}]`, `duplicate test patient "${t}"`);
      seen.add(t);
    });
  }
  return out;
}

/**
 * Why a reconstruction path leaves the manifest's folder ('is absolute', 'leaves the manifest's
 * folder'), or undefined when it stays inside. The rule is lexical (after normalising `a/../b`),
 * as the manifest reads; symbolic links inside the folder are followed like any file.
 */
export function pathEscape(rel: string, baseDir: string): string | undefined {
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel)) return 'is an absolute path';
  const inside = path.relative(baseDir, path.resolve(baseDir, rel));
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) return "leaves the manifest's folder";
  return undefined;
}

/** Scores all valid: only then is a missing consensus worth reporting (bad scores are reported already). */
function isWellFormedRating(g: unknown): boolean {
  return isObj(g) && METRICS.every((m) => scoreSchema.safeParse(g[m]).success);
}
