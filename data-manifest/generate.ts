/**
 * Regenerates data-manifest/schema.json (from the zod schema) and paper-cohort.template.json
 * (Table I of the paper): `npx tsx data-manifest/generate.ts`. Tests check both are up to date.
 */
import * as path from 'path';
import { writeJsonAtomic } from '../lib/util/files';
import { manifestJsonSchema, paperCohortTemplate } from '../lib/manifest';

writeJsonAtomic(path.join(__dirname, 'schema.json'), manifestJsonSchema());
writeJsonAtomic(path.join(__dirname, 'paper-cohort.template.json'), paperCohortTemplate());
console.log('wrote data-manifest/schema.json and data-manifest/paper-cohort.template.json');
