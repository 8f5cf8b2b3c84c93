import { strict as assert } from 'assert';
import type { z } from 'zod';
import { BatchNormCalibrationSchema, WeightsProvenanceSchema } from '../../lib/records/schema';
import type { BatchNormCalibrationProvenance, WeightsProvenance } from '../../lib/types';

// Both directions: a field added to the interface but not to the schema (or the reverse) fails `npm run typecheck`.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const weightsAgree: Same<z.infer<typeof WeightsProvenanceSchema>, WeightsProvenance> = true;
const calibrationAgree: Same<z.infer<typeof BatchNormCalibrationSchema>, BatchNormCalibrationProvenance> = true;

describe('records/schema agrees with lib/types', () => {
  it('WeightsProvenanceSchema parses every variant of WeightsProvenance and rejects an unknown kind', () => {
    assert.ok(weightsAgree && calibrationAgree);
    assert.deepEqual(WeightsProvenanceSchema.parse({ kind: 'random init', seed: 3 }), { kind: 'random init', seed: 3 });
    assert.throws(() => WeightsProvenanceSchema.parse({ kind: 'imagenette', file: 'x', sha256: 'y' }), /Invalid discriminator value/);
  });
});
