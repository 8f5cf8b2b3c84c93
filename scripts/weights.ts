/**
 * npm run weights -- list | fetch NAME... | fetch all | verify [NAME...]
 *   [--cache DIR] [--weights-dir DIR] [--base-url URL] [--md5 HEX] [--json]
 *
 * Keras ImageNet notop weight files: where they are, fetching them into the Keras cache, checking md5s.
 * Exit code 0 when everything asked for is present and verified, 1 otherwise, 2 for bad usage.
 */
import { Command, CommanderError } from 'commander';
import * as cliProgress from 'cli-progress';
import { BACKBONE_NAMES, getBackboneSpec, type BackboneName } from '../lib/backbones/registry';
import { checkWeightsLayout, cleanStaleDownloads, fetchWeights, kerasCacheDir, verifyWeights, weightsUrl, type WeightsStatus } from '../lib/weights';

interface CommonOpts {
  cache?: string;
  weightsDir?: string;
  baseUrl?: string;
  md5?: string;
  json?: boolean;
}

function resolveNames(names: string[]): BackboneName[] {
  if (names.length === 0 || (names.length === 1 && names[0] === 'all')) return [...BACKBONE_NAMES];
  return names.map((n) => getBackboneSpec(n).name);
}

const mb = (n?: number): string => (n === undefined ? '' : `${(n / 1e6).toFixed(1)} MB`);

/** What a row's check says: md5 against Keras's, else sha256 against the download record, else the layout check. */
const CHECK_TEXT: Record<WeightsStatus['status'], string> = {
  ok: 'md5 ok',
  'sha256 ok': 'no md5 in Keras; sha256 as recorded at download',
  'no md5': 'no md5 in Keras; no download record',
  'md5 mismatch': 'MD5 MISMATCH',
  'sha256 mismatch': 'SHA256 DIFFERS FROM THE DOWNLOAD RECORD',
  missing: '',
};

/** verifyWeights plus, for a file Keras has no md5 for and this project did not download, the layout check. */
async function checkedStatus(name: BackboneName, opts: CommonOpts): Promise<WeightsStatus & { layout?: string }> {
  const st = verifyWeights(name, { cacheDir: opts.cache, weightsDir: opts.weightsDir, md5: opts.md5 });
  if (st.status !== 'no md5' || !st.path) return st;
  try {
    await checkWeightsLayout(name, st.path);
    return { ...st, layout: 'layout ok' };
  } catch (err) {
    return { ...st, layout: `BAD LAYOUT: ${(err as Error).message}` };
  }
}

function printTable(rows: Array<WeightsStatus & { layout?: string }>): void {
  const lines = rows.map((r) => [
    r.name,
    r.present ? 'present' : 'MISSING',
    mb(r.size),
    r.sha256 ? r.sha256.slice(0, 16) : '',
    [CHECK_TEXT[r.status], r.layout].filter(Boolean).join('; '),
    r.path ?? r.weightsFile,
  ]);
  const head = ['backbone', 'state', 'size', 'sha256', 'check', 'file'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  console.log(fmt(head));
  for (const l of lines) console.log(fmt(l));
}

function summarise(rows: Array<WeightsStatus & { layout?: string }>, opts: CommonOpts): number {
  const missing = rows.filter((r) => !r.present);
  const bad = rows.filter((r) => r.status === 'md5 mismatch' || r.status === 'sha256 mismatch' || r.layout?.startsWith('BAD'));
  if (opts.json) {
    console.log(JSON.stringify({ cacheDir: kerasCacheDir(opts.cache), weights: rows }, null, 2));
  } else {
    printTable(rows);
    if (missing.length) {
      console.error(`\n${missing.length} missing: ${missing.map((r) => r.name).join(', ')}`);
      console.error(`  looked in: ${[...new Set(missing.flatMap((r) => r.searched.map((s) => s.slice(0, s.lastIndexOf('/') + 1))))].join(', ')}`);
      console.error(`  fetch with: npm run weights -- fetch ${missing.length === BACKBONE_NAMES.length ? 'all' : missing.map((r) => r.name).join(' ')}`);
    }
    for (const r of bad) {
      if (r.status === 'md5 mismatch') console.error(`${r.name}: md5 ${r.md5} of ${r.path} differs from Keras's ${r.expectedMd5}; delete it and fetch again`);
      else if (r.status === 'sha256 mismatch') console.error(`${r.name}: sha256 ${r.sha256} of ${r.path} differs from ${r.recordedSha256} recorded at download; delete it and fetch again`);
      else console.error(`${r.name}: ${r.layout}; delete it and fetch again`);
    }
  }
  return missing.length || bad.length ? 1 : 0;
}

async function cmdFetch(names: string[], opts: CommonOpts): Promise<number> {
  const list = resolveNames(names);
  if (opts.md5 && list.length !== 1) throw new Error('--md5 applies to a single backbone');
  const results: Array<{ name: BackboneName; path?: string; skipped?: boolean; error?: string }> = [];
  for (const name of list) {
    const have = verifyWeights(name, { cacheDir: opts.cache, weightsDir: opts.weightsDir, md5: opts.md5 });
    if (have.present && have.status !== 'md5 mismatch' && have.status !== 'sha256 mismatch') {
      results.push({ name, path: have.path, skipped: true });
      if (!opts.json) console.error(`${name}: already present (${CHECK_TEXT[have.status]}) at ${have.path}`);
      continue;
    }
    const url = weightsUrl(name, opts.baseUrl);
    const bar = opts.json || !process.stderr.isTTY
      ? undefined
      : new cliProgress.SingleBar({ format: `${name.padEnd(18)} [{bar}] {percentage}% {value}/{total} MB`, stream: process.stderr }, cliProgress.Presets.shades_classic);
    let started = false;
    if (!opts.json) console.error(`${name}: fetching ${url}`);
    try {
      const file = await fetchWeights(name, {
        baseUrl: opts.baseUrl,
        cacheDir: opts.cache,
        md5: opts.md5,
        verify: (tmp) => checkWeightsLayout(name, tmp),
        onProgress: (p) => {
          if (!bar) return;
          const total = p.total ?? p.received;
          if (!started) {
            bar.start(Math.round(total / 1e5) / 10, 0);
            started = true;
          }
          bar.update(Math.round(p.received / 1e5) / 10);
        },
      });
      bar?.stop();
      const st = verifyWeights(name, { cacheDir: opts.cache, weightsDir: opts.weightsDir, md5: opts.md5 });
      if (!opts.json) console.error(`${name}: saved ${file} (${mb(st.size)}, ${st.status === 'ok' ? 'md5 ok' : `no md5 in Keras: layout checked, sha256 ${st.sha256} recorded`})`);
      results.push({ name, path: file });
    } catch (err) {
      bar?.stop();
      const msg = (err as Error).message;
      console.error(`${name}: FAILED: ${msg}`);
      results.push({ name, error: msg });
    }
  }
  const failed = results.filter((r) => r.error);
  if (opts.json) console.log(JSON.stringify({ cacheDir: kerasCacheDir(opts.cache), results }, null, 2));
  else if (failed.length) console.error(`\n${failed.length} of ${results.length} failed: ${failed.map((r) => r.name).join(', ')}`);
  return failed.length ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('weights')
    .description('Keras ImageNet notop weight files: list, fetch into the Keras cache, verify md5')
    .option('--cache <dir>', 'Keras cache folder (default: PET_IQA_KERAS_CACHE or ~/.keras/models)')
    .option('--weights-dir <dir>', 'extra folder to look in (default: PET_IQA_WEIGHTS_DIR)')
    .option('--base-url <url>', 'storage root to download from (default: PET_IQA_WEIGHTS_BASE_URL or Keras\'s)')
    .option('--md5 <hex>', 'expected md5 instead of Keras\'s (one backbone only; for mirrors and tests)')
    .option('--json', 'machine-readable output on stdout')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let code = 0;
  program
    .command('list')
    .description('per backbone: file, present or not, size, md5 status')
    .action(() => {
      const o = program.opts<CommonOpts>();
      summarise(BACKBONE_NAMES.map((n) => verifyWeights(n, { cacheDir: o.cache, weightsDir: o.weightsDir })), o);
      code = 0; // listing is informational; `verify` fails on missing files
    });
  program
    .command('fetch')
    .argument('<names...>', "backbone names, or 'all'")
    .description('download missing weight files (with progress) and verify them')
    .action(async (names: string[]) => {
      code = await cmdFetch(names, program.opts<CommonOpts>());
    });
  program
    .command('verify')
    .argument('[names...]', 'backbone names (default: all)')
    .description('check the md5 of present files; non-zero exit when any asked for is missing or wrong')
    .action(async (names: string[]) => {
      const o = program.opts<CommonOpts>();
      const list = resolveNames(names);
      if (o.md5 && list.length !== 1) throw new Error('--md5 applies to a single backbone');
      const rows = [];
      for (const n of list) rows.push(await checkedStatus(n, o));
      code = summarise(rows, o);
    });
  try {
    program.hook('preAction', () => {
      for (const f of cleanStaleDownloads(kerasCacheDir(program.opts<CommonOpts>().cache))) console.error(`removed a stale temporary file of an interrupted download: ${f}`);
    });
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    console.error(`weights: ${(err as Error).message}`);
    return 2;
  }
  return code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

export { main };
