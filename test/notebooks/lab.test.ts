import * as assert from 'assert';
import type { ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../lib/figures/render';
import { startJupyterLab, venvDir } from '../../scripts/notebooks';

/**
 * JupyterLab in a real browser: the project's JupyterLab (.venv, from scripts/setup.sh) serves copies of the
 * fixture notebooks, headless Chromium (as the figure export uses) opens each, runs all cells on the pet-iqa
 * kernel through the Run menu, and the test reads what the page shows.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'notebooks');
const SCREENSHOTS = path.join(ROOT, 'results', 'notebooks-lab');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForServer(base: string, token: string, lab: ChildProcess, log: () => string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (lab.exitCode !== null) throw new Error(`JupyterLab exited with ${lab.exitCode}:\n${log().slice(-2000)}`);
    try {
      const r = await fetch(`${base}/api/status`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`JupyterLab did not answer on ${base} within ${ms} ms:\n${log().slice(-2000)}`);
}

/** What the notebook page shows after Run All: prompts, outputs by MIME type, rendered figures. */
interface LabRun {
  kernel: string;
  prompts: string[];
  outputTypes: string[];
  errorTexts: string[];
  renderedImages: number;
  plotlyPlots: number;
}

/**
 * JupyterLab may ask which kernel to start (for instance when the kernel was slow to come up): answer with
 * the notebook's own, TypeScript (pet-iqa). Returns whether it answered.
 */
async function answerKernelDialog(page: Page): Promise<boolean> {
  const dialog = page.locator('.jp-Dialog', { hasText: 'Select Kernel' });
  if (!(await dialog.isVisible())) return false;
  await dialog.locator('select').selectOption({ label: 'TypeScript (pet-iqa)' });
  await dialog.locator('button', { hasText: /^Select$/ }).click();
  return true;
}

/** Polls `done` (page-side source text) every 250 ms, answering kernel dialogs meanwhile. */
async function waitInLab(page: Page, doneJs: string, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await answerKernelDialog(page);
    if (await page.evaluate(doneJs)) return;
    await page.waitForTimeout(250);
  }
  throw new Error(`JupyterLab: ${what} did not happen within ${ms} ms`);
}

async function runAllInLab(page: Page, base: string, token: string, notebook: string): Promise<LabRun> {
  await page.goto(`${base}/lab/tree/${notebook}?reset&token=${token}`);
  await page.locator('.jp-NotebookPanel .jp-CodeCell').first().waitFor({ timeout: 60_000 });
  // The kernel named in the notebook's metadata starts on its own; wait until it is idle.
  await waitInLab(page, KERNEL_IDLE_JS, 120_000, 'the pet-iqa kernel becoming idle');
  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).click();
  // Done when no cell is queued or running ([*]) and at least one has run; Run All stops at a failing cell.
  await waitInLab(page, RUN_FINISHED_JS, 300_000, 'Run All finishing');
  return (await page.evaluate(READ_RUN_JS)) as LabRun;
}

// Page-side code as source text: tsx compiles functions with esbuild's `__name` helper, which does not exist in the page.
const PROMPTS_JS = `[...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')].map((p) => (p.textContent || '').trim())`;
const RUN_FINISHED_JS = `(() => { const prompts = ${PROMPTS_JS}; return prompts.every((p) => !p.includes('*')) && prompts.some((p) => /\\[\\d+\\]/.test(p)); })()`;
const KERNEL_IDLE_JS = `(() => !document.querySelector('.jp-Dialog') && /TypeScript \\(pet-iqa\\) \\| Idle/.test([...document.querySelectorAll('.jp-StatusBar-Widget')].map((e) => e.textContent).join(' ')))()`;
const READ_RUN_JS = `(() => {
  const panel = document.querySelector('.jp-NotebookPanel');
  const outputs = [...panel.querySelectorAll('.jp-OutputArea-output')];
  const isError = (o) => /stderr|error/.test(o.getAttribute('data-mime-type') || '');
  const kernel = panel.querySelector('.jp-Toolbar-kernelName, .jp-KernelName');
  return {
    kernel: kernel ? kernel.textContent.trim() : '',
    prompts: ${PROMPTS_JS},
    outputTypes: outputs.map((o) => o.getAttribute('data-mime-type') || ''),
    errorTexts: outputs.filter(isError).map((o) => (o.textContent || '').trim()),
    renderedImages: [...panel.querySelectorAll('.jp-OutputArea-output img')].filter((i) => i.complete && i.naturalWidth > 100).length,
    plotlyPlots: panel.querySelectorAll('.jp-OutputArea-output .js-plotly-plot .main-svg').length,
  };
})()`;

/** Why a Run All did not succeed, as the user sees it: unrun cells, error or stderr outputs, no figure. */
function problemsOf(run: LabRun): string[] {
  const problems: string[] = [];
  const unrun = run.prompts.filter((p) => !/^\[\d+\]:$/.test(p)).length;
  if (unrun) problems.push(`${unrun} of ${run.prompts.length} code cells did not run`);
  for (const t of run.errorTexts) problems.push(`error output: ${t.slice(0, 300)}`);
  if (run.renderedImages + run.plotlyPlots === 0) problems.push('no rendered figure (PNG or plotly) in the outputs');
  return problems;
}

describe('notebooks: JupyterLab in a real browser', function () {
  // Generous limits: they only bound waits, which end as soon as their condition holds (both tests took
  // 3.4 min on 2 cores shared with a load average near 30; far less on a quiet machine).
  this.timeout(8 * 60_000);
  const token = randomBytes(16).toString('hex');
  let base = '';
  let lab: ChildProcess | undefined;
  let labLog = '';
  let browser: Browser | undefined;
  let work = '';

  before(async function () {
    if (!fs.existsSync(path.join(venvDir(), 'bin', 'jupyter'))) throw new Error('no JupyterLab in .venv: run bash scripts/setup.sh');
    // Inside the project, so the notebooks resolve `pet-iqa/...` through node_modules as in notebooks/.
    fs.mkdirSync(path.join(ROOT, 'results'), { recursive: true });
    work = fs.mkdtempSync(path.join(ROOT, 'results', 'lab-test-'));
    for (const f of ['ok.ipynb', 'broken.ipynb']) fs.copyFileSync(path.join(FIXTURES, f), path.join(work, f));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    lab = startJupyterLab({ port, dir: work, token }, ['ignore', 'pipe', 'pipe']);
    lab.stdout!.on('data', (d) => (labLog += d));
    lab.stderr!.on('data', (d) => (labLog += d));
    await waitForServer(base, token, lab, () => labLog, 90_000);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  });

  after(async function () {
    await browser?.close();
    if (lab && lab.exitCode === null) {
      // /api/shutdown stops the kernels too; SIGKILL only if the server does not exit.
      const exited = new Promise<void>((r) => lab!.once('exit', () => r()));
      await fetch(`${base}/api/shutdown`, { method: 'POST', headers: { Authorization: `token ${token}` } }).catch(() => undefined);
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000));
      if ((await Promise.race([exited, timer])) === 'timeout') lab.kill('SIGKILL');
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs a notebook on the pet-iqa kernel and shows its figure, without errors (screenshot in results/notebooks-lab/)', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      const run = await runAllInLab(page, base, token, 'ok.ipynb').finally(() => page.screenshot({ path: path.join(SCREENSHOTS, 'ok.png') }));
      assert.strictEqual(run.kernel, 'TypeScript (pet-iqa)', JSON.stringify(run));
      assert.deepStrictEqual(problemsOf(run), [], JSON.stringify(run));
      assert.strictEqual(run.prompts.length, 2, JSON.stringify(run));
    } finally {
      await page.close();
    }
  });

  it('shows the failing cell of a broken notebook and runs nothing after it', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      const run = await runAllInLab(page, base, token, 'broken.ipynb').finally(() => page.screenshot({ path: path.join(SCREENSHOTS, 'broken.png') }));
      assert.strictEqual(run.prompts.length, 3, JSON.stringify(run));
      assert.match(run.prompts[0], /^\[1\]:$/);
      assert.match(run.prompts[1], /^\[2\]:$/);
      assert.strictEqual(run.prompts[2], '[ ]:', `the cell after the failure ran: ${JSON.stringify(run)}`);
      const problems = problemsOf(run);
      assert.ok(problems.includes('1 of 3 code cells did not run'), problems.join('\n'));
      assert.ok(problems.some((t) => t.startsWith('error output:') && t.includes('deliberate failure in the broken fixture')), problems.join('\n'));
    } finally {
      await page.close();
    }
  });
});
