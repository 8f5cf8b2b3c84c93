/**
 * Prints, as JSON, the compute backend initBackend chooses and why.
 *   npm run -s backend [-- --backend gpu|node|wasm|cpu]
 * PET_IQA_BACKEND also forces one; --backend wins over it.
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, initBackend } from '../lib/backend';

async function main(): Promise<void> {
  const program = new Command()
    .name('backend')
    .description('Show the TensorFlow.js backend this workspace would use, and why')
    .option('--backend <name>', `force one of ${BACKEND_NAMES.join(', ')}`)
    .parse(process.argv);
  const opts = program.opts<{ backend?: string }>();
  const choice = await initBackend({ backend: opts.backend });
  console.log(JSON.stringify({ ...choice, tfjs: tf.version.tfjs }, null, 2));
}

main().catch((err: unknown) => {
  console.error(`backend: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
