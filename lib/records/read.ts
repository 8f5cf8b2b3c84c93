/**
 * One way to read the files of lib/records: parse, check against the schema, and report an
 * invalid or old file with its path and the first offending field.
 */
import * as fs from 'fs';
import type { z } from 'zod';
import { BaselineRecordSchema, ModelMetaSchema, RunRecordSchema, StudyDesignSchema, SummarySchema, type BaselineRecord, type ModelMeta, type RunRecord, type Summary } from './schema';
import { checkDesign, type StudyDesign } from '../design/design';

/** A file that is not what its reader expects; the message names the file and the field. */
export class RecordError extends Error {
  constructor(
    readonly file: string,
    /** Dotted path of the offending field ('' for the whole file). */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field ? `field '${field}': ` : ''}${problem}`);
    this.name = 'RecordError';
  }
}

/** Parses `file` as JSON and checks it against `schema`; throws RecordError naming the file and field. */
export function readChecked<S extends z.ZodTypeAny>(file: string, schema: S, what: string): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RecordError(file, '', `cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RecordError(file, '', `invalid JSON in ${what} (${(err as Error).message})`);
  }
  return checkValue(file, value, schema, what);
}

/** Checks an already-parsed value; throws RecordError naming `file` and the first bad field. */
export function checkValue<S extends z.ZodTypeAny>(file: string, value: unknown, schema: S, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.join('.');
  const tag = (value as { schema?: unknown } | null)?.schema;
  const old = issue.path[0] === 'schema' ? ` (an old or foreign file: schema ${JSON.stringify(tag)})` : '';
  const more = r.error.issues.length > 1 ? ` (+${r.error.issues.length - 1} more problem(s))` : '';
  throw new RecordError(file, field, `${issue.message} in ${what}${old}${more}`);
}

/** A run record (`<results>/runs/<id>.json`), checked; unknown extra fields are kept. */
export function readRunRecord(file: string): RunRecord {
  return readChecked(file, RunRecordSchema.passthrough(), 'run record');
}

/**
 * A run record, or undefined when the file is absent or invalid; an invalid one is reported
 * through `onInvalid` (with file and field), the same way by every stage.
 */
export function tryReadRunRecord(file: string, onInvalid: (message: string) => void): RunRecord | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return readRunRecord(file);
  } catch (err) {
    onInvalid((err as Error).message);
    return undefined;
  }
}

/** A baseline record (`<results>/baselines/<id>.json`), checked. */
export function readBaselineRecord(file: string): BaselineRecord {
  return readChecked(file, BaselineRecordSchema.passthrough(), 'baseline record');
}

/** A baseline record, or undefined when absent or invalid (reported through `onInvalid`). */
export function tryReadBaselineRecord(file: string, onInvalid: (message: string) => void): BaselineRecord | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return readBaselineRecord(file);
  } catch (err) {
    onInvalid((err as Error).message);
    return undefined;
  }
}

/** `<results>/design.json`, checked. */
export function readDesign(file: string): StudyDesign {
  const design = readChecked(file, StudyDesignSchema, 'study design') as StudyDesign;
  // The schema checks the fields; checkDesign the rules between them (no test patient in a fold, ...).
  checkDesign(design, file);
  return design;
}

/** `<results>/summary.json`, checked. */
export function readSummary(file: string): Summary {
  return readChecked(file, SummarySchema, 'summary');
}

/** A kept model's `meta.json`, checked (unknown extra fields are kept). */
export function readModelMeta(file: string): ModelMeta {
  return readChecked(file, ModelMetaSchema, 'model metadata');
}

/** Orders records by id (code-unit order, as the runner and merge list them). */
export function compareById(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
