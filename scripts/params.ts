/**
 * The parameter table of the study (Tables II and III): per backbone, layers N, total parameters
 * (base + Flatten + Dense(3)), Flatten size, and the trainable parameters of the frozen and the
 * partly unfrozen (first 60 % of layers frozen) regimes; Table II is checked against the paper.
 *   npm run -s params [-- --json] [--backbones VGG16,ResNet50] [--input-size 80] [--backend cpu]
 * Exits 1 when a trainable count of the frozen regime differs from the paper's Table II.
 */
import { Command } from 'commander';
import { initBackend } from '../lib/backend';
import { BACKBONE_NAMES, getBackboneSpec, parameterTable, type ParameterRow } from '../lib/backbones';

interface Options {
  json?: boolean;
  backbones?: string;
  inputSize: string;
  backend?: string;
}

function formatTable(rows: ParameterRow[], inputSize: number): string {
  const header = ['backbone', 'layers N', 'frozen (0.6N)', 'total params', 'flatten', 'trainable frozen', 'Table II', 'trainable partial'];
  const body = rows.map((r) => [
    r.backbone,
    String(r.layers),
    String(r.frozenLayersPartial),
    r.totalParams.toLocaleString('en-US'),
    r.flattenSize.toLocaleString('en-US'),
    r.trainableFrozen.toLocaleString('en-US'),
    r.trainableFrozen === r.tableIITrainable ? 'ok' : `MISMATCH (paper ${r.tableIITrainable.toLocaleString('en-US')})`,
    r.trainablePartial.toLocaleString('en-US'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `Backbone parameters at ${inputSize} x ${inputSize} x 3, head Flatten + Dense(3)`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('params')
    .description('Parameter table of the 18 backbones (Tables II and III)')
    .option('--json', 'print a JSON array instead of a table')
    .option('--backbones <list>', `comma-separated subset of ${BACKBONE_NAMES.join(', ')}`)
    .option('--input-size <px>', 'input height and width', '80')
    .option('--backend <name>', 'TensorFlow.js backend (default: PET_IQA_BACKEND or automatic)')
    .parse(process.argv);
  const opts = program.opts<Options>();
  const inputSize = Number(opts.inputSize);
  if (!Number.isInteger(inputSize) || inputSize < 1) throw new Error(`--input-size must be a positive integer, got '${opts.inputSize}'`);
  const names = opts.backbones
    ? opts.backbones.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => getBackboneSpec(s).name)
    : [...BACKBONE_NAMES];
  await initBackend({ backend: opts.backend });
  const rows = parameterTable(names, {
    inputSize,
    onRow: (row, i, n) => {
      if (!opts.json && process.stderr.isTTY) process.stderr.write(`\r${i + 1}/${n} ${row.backbone}        `);
    },
  });
  if (!opts.json && process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(40) + '\r');
  console.log(opts.json ? JSON.stringify(rows, null, 2) : formatTable(rows, inputSize));
  // Table II holds for the paper's 80 x 80 input only.
  const mismatched = inputSize === 80 ? rows.filter((r) => r.trainableFrozen !== r.tableIITrainable) : [];
  if (mismatched.length > 0) {
    console.error(`params: Table II mismatch for ${mismatched.map((r) => r.backbone).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(`params: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
