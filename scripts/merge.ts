/**
 * npm run merge -- DIR... [--out OUT]
 * Merges the results folders of a sharded sweep (reproduce --shard i/N --out DIR_i; see
 * scripts/slurm-reproduce.sbatch) into one: refuses runs that disagree between shards and lists the
 * planned runs no shard has. Default OUT: results/merged.
 */
import { Command } from 'commander';
import * as path from 'path';
import { mergeShards } from '../lib/study/merge';
import { projectRoot } from '../lib/util/files';

async function main(): Promise<void> {
  const program = new Command()
    .name('merge')
    .description('Merge shard results folders into one results folder')
    .argument('<dirs...>', 'results folders of the shards')
    .option('--out <dir>', 'merged folder (must not exist or be empty)', path.join(projectRoot(), 'results', 'merged'))
    .parse();
  const o = program.opts<{ out: string }>();
  const r = await mergeShards({ shards: program.args, out: o.out });
  for (const s of r.perShard) process.stderr.write(`  ${s.dir}: ${s.runs} run(s)\n`);
  process.stderr.write(`merged ${r.runs} run(s)${r.planned ? ` of ${r.planned} planned` : ''} into ${r.out}; ${r.duplicates} duplicate(s), all agreeing\n`);
  if (r.missing.length > 0) {
    process.stderr.write(`missing ${r.missing.length} run(s):\n${r.missing.map((id) => `  ${id}`).join('\n')}\n`);
    process.exitCode = 3;
  } else if (r.planned) process.stderr.write('complete: every planned run is present\n');
}

main().catch((err) => {
  process.stderr.write(`merge: ${(err as Error).message}\n`);
  process.exit(1);
});
