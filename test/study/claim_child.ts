/**
 * One of the two processes of the claims test (test/study/claims.test.ts): loads the runner, says
 * "ready", waits for the go file (so both start their sweeps together), runs the tiny study on the
 * shared results folder inline and prints the ids it ran as JSON.
 *   tsx claim_child.ts <out> <dataFile> <cacheDir> <goFile>
 */
import * as fs from 'fs';
import { runStudy } from '../../lib/study/runner';
import { fixturePreset } from './fixtures';

async function main(): Promise<void> {
  const [out, dataFile, cacheDir, goFile] = process.argv.slice(2);
  process.stdout.write('ready\n');
  while (!fs.existsSync(goFile)) await new Promise((r) => setTimeout(r, 20));
  const r = await runStudy({
    preset: fixturePreset(),
    out,
    data: { kind: 'file', file: dataFile },
    builderModule: require.resolve('./tiny_backbone.ts'),
    weights: { kind: 'random' },
    cacheDir,
    workers: 0,
    progress: false,
    log: (s) => process.stderr.write(s + '\n'),
  });
  process.stdout.write(JSON.stringify({ ran: r.ranIds, planned: r.planned }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`claim_child: ${(err as Error).stack}\n`);
  process.exit(1);
});
