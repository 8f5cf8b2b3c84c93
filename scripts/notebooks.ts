/**
 * The tslab notebooks, headless and served:
 *   tsx scripts/notebooks.ts install-kernel        register the "TypeScript (pet-iqa)" kernel in <project>/.jupyter
 *   tsx scripts/notebooks.ts run [names...]        execute notebooks/*.ipynb (PRESET=smoke unless set) with nbclient,
 *                                                  executed copies to results/notebooks/; exits 1 naming notebook + cell
 *   tsx scripts/notebooks.ts lab [--port N]        JupyterLab 4 (from the project's .venv) on 127.0.0.1 with that kernel
 *   tsx scripts/notebooks.ts serve [--port N]      classic Notebook on 127.0.0.1 with that kernel
 *
 * Why a kernel of our own: tslab compiles a notebook with rootDir = the notebook's folder, so
 * `import '../lib/x'` fails. The notebooks import the workspace as a package instead
 * (`import { show } from 'pet-iqa/lib/figures'`): node_modules/pet-iqa is a symlink to the project
 * (made here), which TypeScript treats as an external library (type-checked, not emitted), and the
 * kernel runs with NODE_OPTIONS="--require tsx/cjs" so Node can load those .ts files at run time.
 * See docs/notebooks.md.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'child_process';
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../lib/util/files';
import { port, positiveNumber } from '../lib/util/cli';

export const KERNEL_NAME = 'pet-iqa';
const PYTHON = process.env.PET_IQA_PYTHON ?? '/usr/bin/python3';

function root(): string {
  return projectRoot();
}

/** <project>/.jupyter/share/jupyter: the project-local Jupyter data dir holding our kernelspec. */
export function jupyterDataDir(): string {
  return path.join(root(), '.jupyter', 'share', 'jupyter');
}

/** Environment for Jupyter processes: finds the project kernel first, keeps Jupyter's runtime files local. */
export function jupyterEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const data = jupyterDataDir();
  return {
    ...process.env,
    JUPYTER_PATH: [data, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    JUPYTER_CONFIG_DIR: path.join(root(), '.jupyter', 'config'),
    JUPYTER_RUNTIME_DIR: path.join(root(), '.jupyter', 'runtime'),
    JUPYTER_PLATFORM_DIRS: '1',
    ...extra,
  };
}

/** Makes node_modules/pet-iqa -> .. (the self-reference notebooks import through); idempotent. */
export function ensureSelfLink(): string {
  const link = path.join(root(), 'node_modules', 'pet-iqa');
  let ok = false;
  try {
    ok = fs.realpathSync(link) === fs.realpathSync(root());
  } catch {
    /* absent */
  }
  if (!ok) {
    fs.rmSync(link, { force: true, recursive: false });
    fs.symlinkSync('..', link, 'dir');
  }
  return link;
}

/** Writes the kernelspec (tslab from this workspace, tsx preloaded); returns its folder. */
export function installKernel(log: (m: string) => void = console.log): string {
  const r = root();
  const tslab = path.join(r, 'node_modules', '.bin', 'tslab');
  if (!fs.existsSync(tslab)) throw new Error(`install-kernel: ${tslab} missing; run npm install`);
  const tsxCjs = require.resolve('tsx/cjs', { paths: [r] });
  ensureSelfLink();
  const dir = path.join(jupyterDataDir(), 'kernels', KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (pet-iqa)',
    language: 'typescript',
    env: { NODE_OPTIONS: `--require ${tsxCjs}` },
    metadata: { note: 'written by scripts/notebooks.ts install-kernel; see docs/notebooks.md' },
  };
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(spec, null, 2) + '\n');
  log(`kernel '${KERNEL_NAME}' installed in ${dir} (tslab ${tslab}); set JUPYTER_PATH=${jupyterDataDir()} to use it elsewhere`);
  // Fail early, with the reason, when this Python cannot run notebooks.
  const chk = spawnSync(PYTHON, ['-c', 'import nbclient, nbformat, jupyter_client'], { encoding: 'utf8' });
  if (chk.status !== 0) log(`warning: ${PYTHON} lacks nbclient/nbformat/jupyter_client: ${chk.stderr.trim().split('\n').pop()}`);
  return dir;
}

/** The project's virtual environment (scripts/setup.sh makes it and installs JupyterLab into it). */
export function venvDir(): string {
  return path.join(root(), '.venv');
}

export interface JupyterLabArgs {
  /** Port on 127.0.0.1. */
  port: number;
  /** Folder JupyterLab opens (its file browser root). */
  dir: string;
  /** Access token; default: JupyterLab makes one and prints the URL with it. */
  token?: string;
}

/** Command line of `jupyter lab` from the project venv, listening on 127.0.0.1 only, with the project kernel. */
export function jupyterLabCommand(o: JupyterLabArgs): { command: string; args: string[] } {
  const jupyter = path.join(venvDir(), 'bin', 'jupyter');
  if (!fs.existsSync(jupyter)) throw new Error(`lab: ${jupyter} missing: run bash scripts/setup.sh (it installs JupyterLab 4 into .venv/)`);
  if (!fs.existsSync(o.dir)) throw new Error(`lab: no folder ${o.dir}`);
  const args = ['lab', '--no-browser', '--ip=127.0.0.1', `--port=${o.port}`, '--ServerApp.port_retries=0', `--ServerApp.root_dir=${path.resolve(o.dir)}`, '--LabApp.news_url=None', `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`];
  if (o.token !== undefined) args.push(`--IdentityProvider.token=${o.token}`);
  // Containers often run as root, which Jupyter refuses without this flag.
  if (process.getuid?.() === 0) args.push('--allow-root');
  return { command: jupyter, args };
}

/** Starts JupyterLab (see jupyterLabCommand) with the project's Jupyter environment; installs the kernel first if needed. */
export function startJupyterLab(o: JupyterLabArgs, stdio: StdioOptions = 'inherit'): ChildProcess {
  if (!kernelInstalled()) installKernel(() => {});
  const { command, args } = jupyterLabCommand(o);
  return spawn(command, args, { env: jupyterEnv(), stdio });
}

function kernelInstalled(): boolean {
  const f = path.join(jupyterDataDir(), 'kernels', KERNEL_NAME, 'kernel.json');
  if (!fs.existsSync(f)) return false;
  try {
    const spec = JSON.parse(fs.readFileSync(f, 'utf8'));
    return fs.existsSync(spec.argv[0]) && fs.existsSync(path.join(root(), 'node_modules', 'pet-iqa'));
  } catch {
    return false;
  }
}

/** Python side of `run`: executes one notebook with nbclient, writes the executed copy, reports as JSON. */
const RUNNER_PY = String.raw`
import json, sys, time, traceback
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
args = json.loads(sys.argv[1])
nb = nbformat.read(args['notebook'], as_version=4)
client = NotebookClient(nb, kernel_name=args['kernel'], timeout=args['timeout'], startup_timeout=120,
                        resources={'metadata': {'path': args['cwd']}})
report = {'notebook': args['notebook'], 'ok': True, 'seconds': 0}
t0 = time.time()
try:
    client.execute()
except Exception as e:
    report['ok'] = False
    report['error'] = type(e).__name__ + ': ' + str(e).strip().splitlines()[-1][:500] if str(e).strip() else type(e).__name__
    code_cells = [c for c in nb.cells if c.cell_type == 'code']
    failed = None
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code':
            continue
        outs = c.get('outputs', [])
        if any(o.get('output_type') == 'error' for o in outs):
            failed = i
    if failed is None:
        # tslab reports errors on stderr without an 'error' output; nbclient stops at the failing
        # cell, so it is the last code cell that got an execution count (else the first code cell).
        ran = [i for i, c in enumerate(nb.cells) if c.cell_type == 'code' and c.get('execution_count') is not None]
        firsts = [i for i, c in enumerate(nb.cells) if c.cell_type == 'code']
        failed = ran[-1] if ran else (firsts[0] if firsts else None)
    if failed is not None:
        c = nb.cells[failed]
        stderr = ''.join(o.get('text', '') for o in c.get('outputs', []) if o.get('output_type') == 'stream' and o.get('name') == 'stderr')
        errs = [o for o in c.get('outputs', []) if o.get('output_type') == 'error']
        report['cell'] = {
            'index': failed + 1,
            'codeIndex': sum(1 for x in nb.cells[:failed + 1] if x.cell_type == 'code'),
            'firstLine': (c.source.strip().splitlines() or [''])[0][:120],
            'ename': errs[0].get('ename') if errs else None,
            'evalue': (errs[0].get('evalue') or '')[:500] if errs else None,
            'stderr': stderr[-1500:],
        }
report['seconds'] = round(time.time() - t0, 1)
nbformat.write(nb, args['out'])
print('@@REPORT@@' + json.dumps(report))
`;

export interface NotebookRunReport {
  notebook: string;
  ok: boolean;
  seconds: number;
  out: string;
  error?: string;
  cell?: { index: number; codeIndex: number; firstLine: string; ename?: string; evalue?: string; stderr: string };
}

/** Executes one notebook headless (cwd = its folder, so relative paths behave as in Jupyter). */
export function runNotebook(notebook: string, opts: { outDir: string; preset: string; timeout: number }): Promise<NotebookRunReport> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const out = path.join(opts.outDir, path.basename(notebook));
  const args = { notebook: path.resolve(notebook), out, kernel: KERNEL_NAME, timeout: opts.timeout, cwd: path.dirname(path.resolve(notebook)) };
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', RUNNER_PY, JSON.stringify(args)], {
      env: jupyterEnv({ PRESET: opts.preset }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@REPORT@@'));
      if (!line) {
        reject(new Error(`notebooks: runner for ${notebook} exited ${code} without a report:\n${stderr.slice(-2000)}`));
        return;
      }
      resolve({ ...(JSON.parse(line.slice('@@REPORT@@'.length)) as Omit<NotebookRunReport, 'out'>), out });
    });
  });
}

/** Notebooks of a folder in name order (01_..., 02_...), optionally only the named ones. */
export function listNotebooks(dir: string, names: string[] = []): string[] {
  if (!fs.existsSync(dir)) throw new Error(`notebooks: no folder ${dir}`);
  const all = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
  if (names.length === 0) return all.map((f) => path.join(dir, f));
  return names.map((n) => {
    const hit = all.find((f) => f === n || f === `${n}.ipynb` || f.startsWith(n));
    if (!hit) throw new Error(`notebooks: no notebook '${n}' in ${dir} (have ${all.join(', ')})`);
    return path.join(dir, hit);
  });
}

export function describeFailure(r: NotebookRunReport): string {
  const where = r.cell ? `cell ${r.cell.index} (code cell ${r.cell.codeIndex}: \`${r.cell.firstLine}\`)` : 'before any cell ran';
  // tslab puts the message on stderr ("Error: ..." or a compiler diagnostic "1:5 - ..."), not in evalue.
  const errLine = r.cell?.stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^[A-Za-z]*Error\b.*:/.test(l) || /^\d+:\d+ - /.test(l));
  const why = r.cell?.evalue || errLine || r.cell?.ename || r.error || 'unknown error';
  const detail = r.cell?.stderr ? `\n    ${r.cell.stderr.trim().split('\n').slice(-6).join('\n    ')}` : '';
  return `FAILED ${path.basename(r.notebook)}: ${where}: ${why}${detail}\n    executed copy: ${r.out}`;
}

async function main(): Promise<void> {
  const program = new Command().name('notebooks').description('Install, run and serve the tslab notebooks');
  program
    .command('install-kernel')
    .description(`register the '${KERNEL_NAME}' TypeScript kernel in <project>/.jupyter (and the node_modules/pet-iqa self-link)`)
    .action(() => {
      installKernel();
    });
  program
    .command('run')
    .description('execute notebooks headless (PRESET=smoke unless set); executed copies go to --out')
    .argument('[names...]', 'notebooks to run (file names or prefixes such as 01); default all')
    .option('--dir <dir>', 'folder of notebooks', 'notebooks')
    .option('--out <dir>', 'folder for executed copies', path.join('results', 'notebooks'))
    .option('--preset <name>', 'PRESET for the notebooks', process.env.PRESET || 'smoke')
    .option('--timeout <s>', 'per-cell timeout in seconds', (v) => String(positiveNumber(v)), '1800')
    .action(async (names: string[], o: { dir: string; out: string; preset: string; timeout: string }) => {
      if (!kernelInstalled()) installKernel();
      const notebooks = listNotebooks(o.dir, names);
      if (notebooks.length === 0) throw new Error(`notebooks: no .ipynb in ${o.dir}`);
      if (path.resolve(o.out) === path.resolve(o.dir)) throw new Error('notebooks: --out must differ from --dir (committed notebooks stay without outputs)');
      const failures: NotebookRunReport[] = [];
      for (const nb of notebooks) {
        process.stdout.write(`${path.basename(nb)} (PRESET=${o.preset}) ... `);
        const r = await runNotebook(nb, { outDir: o.out, preset: o.preset, timeout: Number(o.timeout) });
        console.log(r.ok ? `ok (${r.seconds} s)` : `FAILED (${r.seconds} s)`);
        if (!r.ok) failures.push(r);
      }
      if (failures.length) {
        for (const f of failures) console.error(describeFailure(f));
        process.exitCode = 1;
      } else console.log(`${notebooks.length} notebook(s) ran; executed copies in ${o.out}`);
    });
  program
    .command('lab')
    .description('start JupyterLab (from .venv) on 127.0.0.1 with the pet-iqa TypeScript kernel and the notebooks folder')
    .option('--port <n>', 'port', '8888')
    .option('--dir <dir>', 'notebook folder', 'notebooks')
    .action((o: { port: string; dir: string }) => {
      const child = startJupyterLab({ port: Number(o.port), dir: o.dir });
      child.on('exit', (code) => process.exit(code ?? 0));
    });
  program
    .command('serve')
    .description('start classic Jupyter Notebook on 127.0.0.1 with the pet-iqa TypeScript kernel')
    .option('--port <n>', 'port', (v) => String(port(v)), '8888')
    .option('--dir <dir>', 'notebook folder', 'notebooks')
    .action((o: { port: string; dir: string }) => {
      if (!kernelInstalled()) installKernel();
      const args = ['-m', 'notebook', '--ip=127.0.0.1', `--port=${o.port}`, '--no-browser', `--notebook-dir=${path.resolve(o.dir)}`];
      // Containers often run as root, which Notebook refuses without this flag.
      if (process.getuid?.() === 0) args.push('--allow-root');
      const child = spawn(PYTHON, args, {
        env: jupyterEnv(),
        stdio: 'inherit',
      });
      child.on('exit', (code) => process.exit(code ?? 0));
    });
  await program.parseAsync();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`notebooks: ${(err as Error).message}`);
    process.exit(1);
  });
}
