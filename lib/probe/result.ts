/**
 * The probe result file `pet-iqa/probe@1` (written by lib/probe runProbe, drawn by Fig. 9): its zod
 * schema and the one reader. Free of tfjs, so figures can import it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';

export const probeErrorSchema = z.object({
  perPatch: z.object({ GQR: z.number(), PR: z.number(), DC: z.number(), overall: z.number() }),
  perVolume: z.object({ GQR: z.number(), PR: z.number(), DC: z.number(), overall: z.number() }),
  volumes: z.number(),
});

/** A probe result file, `pet-iqa/probe@1`. */
export const probeResultSchema = z.object({
  schema: z.literal('pet-iqa/probe@1'),
  backbone: z.string(),
  /** 'random' | 'pretext' | 'imagenet' | 'file': the curve it belongs to in Fig. 9. */
  weightsKind: z.string(),
  weightsLabel: z.string(),
  weights: z.record(z.string(), z.unknown()),
  preset: z.string(),
  fold: z.number(),
  n: z.number(),
  trainPatients: z.array(z.string()),
  validationPatients: z.array(z.string()),
  testPatients: z.array(z.string()),
  patchSetHash: z.string(),
  points: z.array(
    z.object({
      name: z.string(),
      layerIndex: z.number(),
      depth: z.number(),
      channels: z.number(),
      spatial: z.tuple([z.number(), z.number()]),
      lambda: z.number(),
      validationMSE: z.number(),
      test: probeErrorSchema,
    }),
  ),
  frozenHead: z.object({ flattenSize: z.number(), keptEpoch: z.number(), epochs: z.number(), learningRate: z.number(), test: probeErrorSchema }),
  baselines: z.object({ constant: probeErrorSchema, handcrafted: probeErrorSchema.extend({ lambda: z.number() }) }),
  backend: z.string(),
  gitCommit: z.string(),
  seconds: z.number(),
  createdAt: z.string(),
});
export type ProbeResult = z.infer<typeof probeResultSchema>;

/** Reads a probe file; errors name the file and the field. */
export function readProbeResult(file: string): ProbeResult {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`probe file ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const parsed = probeResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`probe file ${file}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return parsed.data;
}

/** Every probe file of a results folder (`<dir>/probe/*.json`), sorted by backbone then weights. */
export function readProbeResults(resultsDir: string): ProbeResult[] {
  const dir = path.join(resultsDir, 'probe');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readProbeResult(path.join(dir, f)));
}
