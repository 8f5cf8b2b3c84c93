/**
 * The cohort manifest format `pet-iqa/cohort@1`: which patients, which reconstructions (NIfTI
 * files, paths relative to the manifest), and the clinicians' scores. The zod schema here is the
 * single source of truth: TypeScript types, validation and data-manifest/schema.json all come
 * from it. Cross-field rules (unique ids, known patients, consensus where raters disagree, files
 * on disk) are checked in validate.ts.
 *
 * Uses zod's v4 API (shipped as `zod/v4` inside zod 3.25) for its built-in JSON Schema export.
 */
import { z } from 'zod/v4';

export const COHORT_SCHEMA_ID = 'pet-iqa/cohort@1';

/** A clinical score: 0 (unacceptable) to 3 (good/excellent) in half points. */
export const scoreSchema = z
  .number({ error: 'score must be a number' })
  .min(0, { error: 'score must be between 0 and 3' })
  .max(3, { error: 'score must be between 0 and 3' })
  .multipleOf(0.5, { error: 'score must be on the half-point grid (0, 0.5, ..., 3)' })
  .describe('Clinical score: 0 unacceptable, 1 poor but usable, 2 acceptable, 3 good/excellent; half points allowed.');

/** A SHA-256 as the manifest stores it: 64 lowercase hex digits. */
export const SHA256_RE = /^[0-9a-f]{64}$/;

const id = (what: string) => z.string().min(1, { error: `${what} must be a non-empty string` });

export const metricScoresSchema = z
  .strictObject({
    GQR: scoreSchema.describe('Global quality rating (sharpness, noise).'),
    PR: scoreSchema.describe('Pattern recognition: are pathological patterns of memory disorders detectable.'),
    DC: scoreSchema.describe('Diagnostic confidence.'),
  })
  .describe('The three clinical metrics.');

export const ratingSchema = z
  .strictObject({
    rater: id('rater').describe('Rater code (for example "A"); listed in `raters` when that list is given.'),
    ...metricScoresSchema.shape,
  })
  .describe("One clinician's blinded scores of one reconstruction.");

export const patientSchema = z
  .strictObject({
    id: id('patient id').describe('Patient id, unique in the manifest (the paper uses its patient numbers: "1", "3", ...).'),
    sex: z.enum(['F', 'M'], { error: 'sex must be "F" or "M"' }).describe('Sex: "F" or "M".'),
    age: z.number().positive({ error: 'age must be > 0' }).max(130, { error: 'age must be <= 130' }).describe('Age in years.'),
    weightKg: z.number().positive({ error: 'weightKg must be > 0' }).max(500, { error: 'weightKg must be <= 500' }).describe('Body weight in kg.'),
    injectedMBq: z
      .number()
      .positive({ error: 'injectedMBq must be > 0' })
      .max(2000, { error: 'injectedMBq must be <= 2000' })
      .describe('Injected [18F]FDG activity in MBq (full dose).'),
    synthetic: z.boolean().optional().describe('True when this patient is simulated (a digital phantom).'),
    notes: z.string().optional().describe('Free text.'),
  })
  .describe('One patient.');

export const reconstructionSchema = z
  .strictObject({
    id: id('reconstruction id').describe('Reconstruction id, unique in the manifest (for example "p1-c10").'),
    patient: id('patient').describe('Id of the patient (must be in `patients`).'),
    countPercent: z
      .number({ error: 'countPercent must be a number' })
      .gt(0, { error: 'countPercent must be in (0, 100]' })
      .lte(100, { error: 'countPercent must be in (0, 100]' })
      .describe('Percentage of the full list-mode counts used (the paper: 0.5, 1, 5, 10, 25, 50, 100).'),
    path: id('path').describe('NIfTI file (.nii or .nii.gz), relative to the folder of the manifest and inside it (unless the manifest sets allowPathsOutside).'),
    sha256: z
      .string()
      .regex(SHA256_RE, { error: 'sha256 must be 64 lowercase hex digits' })
      .optional()
      .describe('SHA-256 of the file bytes; every command verifies it before using the file (unless run with --no-verify).'),
    units: id('units').describe('Intensity units of the voxel values, for example "Bq/ml".'),
    ratings: z
      .array(ratingSchema)
      .optional()
      .describe('Scores of each rater (1 or 2). Omit for unscored reconstructions (the paper scored 3 of 7 count levels per patient).'),
    consensus: metricScoresSchema
      .optional()
      .describe('Consensus scores; required when two raters differ by >= 1 on any metric, and used as the label for those metrics.'),
    notes: z.string().optional().describe('Free text.'),
  })
  .describe('One reconstructed PET volume.');

export const cohortManifestSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Optional link to data-manifest/schema.json for editors.'),
    schema: z.literal(COHORT_SCHEMA_ID, { error: `schema must be "${COHORT_SCHEMA_ID}"` }).describe('Format id and version.'),
    name: id('name').describe('Name of the cohort.'),
    synthetic: z.boolean({ error: 'synthetic must be true or false' }).describe('True for a simulated cohort, false for real patient data.'),
    description: z.string().optional().describe('Free text: origin, reconstruction settings, contacts.'),
    patients: z.array(patientSchema).min(1, { error: 'at least one patient is required' }).describe('The patients.'),
    reconstructions: z.array(reconstructionSchema).describe('The reconstructed volumes.'),
    testPatients: z
      .array(z.string())
      .optional()
      .describe('Patient ids held out as the fixed test set (the paper: 3 patients); the study design picks them when absent.'),
    raters: z.array(z.string()).optional().describe('Rater codes; when given, every rating must use one of them.'),
    allowPathsOutside: z
      .boolean({ error: 'allowPathsOutside must be true or false' })
      .optional()
      .describe('True allows reconstruction paths that are absolute or leave the manifest\'s folder (`../`); default false.'),
  })
  .describe('pet-iqa cohort manifest: patients, reconstructions and clinical scores.');

export type MetricScores = z.infer<typeof metricScoresSchema>;
export type Rating = z.infer<typeof ratingSchema>;
export type Patient = z.infer<typeof patientSchema>;
export type Reconstruction = z.infer<typeof reconstructionSchema>;
export type CohortManifest = z.infer<typeof cohortManifestSchema>;

/** The JSON Schema (draft 2020-12) of the manifest, generated from the zod schema (data-manifest/schema.json holds a copy). */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(cohortManifestSchema),
    title: 'pet-iqa cohort manifest (pet-iqa/cohort@1)',
  } as Record<string, unknown>;
}
