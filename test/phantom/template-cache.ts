/** One load of the ICBM template per test process (loading takes seconds); shared by test files. */
import { loadTemplateSet, TemplateSet } from '../../lib/phantom';

let cached: TemplateSet | undefined;
export function sharedTemplate(): TemplateSet {
  cached ??= loadTemplateSet();
  return cached;
}
