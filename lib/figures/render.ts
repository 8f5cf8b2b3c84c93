import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_SIZE, plotlyJson, type Figure } from './common';

/**
 * Turning figures into files: self-contained HTML (plotly.js inlined, works offline) and
 * PNG/SVG rendered by plotly itself (Plotly.toImage) inside headless Chromium, driven by
 * playwright-core, so images look exactly like the interactive figure.
 */

/** Flags the workspace's sandbox needs (no GPU, no network chatter, no first-run UI). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The Chromium binary: PET_IQA_CHROMIUM, else /usr/bin/chromium. */
export function chromiumPath(): string {
  const p = process.env.PET_IQA_CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(p)) throw new Error(`No Chromium at ${p}: install the 'chromium' package or set PET_IQA_CHROMIUM`);
  return p;
}

let plotlySource: string | undefined;
/** plotly.min.js from node_modules, read once. */
export function plotlyBundle(): string {
  if (plotlySource === undefined) plotlySource = fs.readFileSync(require.resolve('plotly.js/dist/plotly.min.js'), 'utf8');
  return plotlySource;
}

function sizeOf(fig: Figure): { width: number; height: number } {
  const w = Number(fig.layout.width);
  const h = Number(fig.layout.height);
  return { width: Number.isFinite(w) && w > 0 ? w : DEFAULT_SIZE.width, height: Number.isFinite(h) && h > 0 ? h : DEFAULT_SIZE.height };
}

/** Escapes `</script` so figure JSON cannot close the script element it sits in. */
function scriptSafe(json: string): string {
  return json.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** Escapes &, <, > and " for HTML text and attribute values. */
export const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A standalone HTML page holding the figure, with plotly.js inlined (no CDN, works offline). */
export function figureHtml(fig: Figure, title = 'figure'): string {
  const { width, height } = sizeOf(fig);
  const json = scriptSafe(JSON.stringify(plotlyJson(fig)));
  const warnings = (fig.warnings ?? []).map((w) => `<li>${escapeHtml(w)}</li>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<script>${scriptSafe(plotlyBundle())}</script>
<style>body{font-family:Arial,Helvetica,sans-serif;margin:16px}ul.warn{color:#a00;font-size:12px}</style>
</head><body>
<div id="fig" style="width:${width}px;height:${height}px"></div>
${warnings ? `<ul class="warn">${warnings}</ul>` : ''}
<script>
const fig = ${json};
Plotly.newPlot('fig', fig.data, fig.layout, {responsive: false, displaylogo: false});
</script>
</body></html>
`;
}

export interface RenderedImages {
  png?: Buffer;
  svg?: string;
}

/**
 * A headless Chromium page with plotly.js loaded, reused for many figures (starting Chromium costs
 * about a second). Always `close()` it; `withRenderer` does that for you.
 */
export class FigureRenderer {
  private constructor(
    private readonly browser: import('playwright-core').Browser,
    private readonly page: import('playwright-core').Page,
  ) {}

  static async open(): Promise<FigureRenderer> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    // playwright gives every launch a fresh temporary profile (user data dir).
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    try {
      const page = await browser.newPage();
      await page.setContent('<!DOCTYPE html><html><body><div id="fig"></div></body></html>');
      await page.addScriptTag({ content: plotlyBundle() });
      return new FigureRenderer(browser, page);
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  /** PNG (at `scale` x the layout size) and/or SVG of a figure, as plotly's own exporter makes them. */
  async render(fig: Figure, formats: Array<'png' | 'svg'> = ['png', 'svg'], scale = 2): Promise<RenderedImages> {
    const { width, height } = sizeOf(fig);
    const out: RenderedImages = {};
    const urls = await this.page.evaluate(
      async ({ fig, formats, width, height, scale }) => {
        const P = (globalThis as any).Plotly;
        const div = document.getElementById('fig')!;
        await P.newPlot(div, fig.data, fig.layout);
        const res: Record<string, string> = {};
        for (const f of formats) res[f] = await P.toImage(div, { format: f, width, height, scale: f === 'png' ? scale : 1 });
        P.purge(div);
        return res;
      },
      { fig: plotlyJson(fig), formats, width, height, scale },
    );
    if (urls.png) out.png = Buffer.from(urls.png.replace(/^data:image\/png;base64,/, ''), 'base64');
    if (urls.svg) {
      const s = urls.svg;
      out.svg = s.startsWith('data:image/svg+xml;base64,')
        ? Buffer.from(s.slice('data:image/svg+xml;base64,'.length), 'base64').toString('utf8')
        : decodeURIComponent(s.replace(/^data:image\/svg\+xml,/, ''));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Opens a renderer, runs `fn`, and closes Chromium even when `fn` throws. */
export async function withRenderer<T>(fn: (r: FigureRenderer) => Promise<T>): Promise<T> {
  const r = await FigureRenderer.open();
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

/** PNG bytes of one figure (starts and stops Chromium; use `withRenderer` for many). */
export async function renderPng(fig: Figure, scale = 2): Promise<Buffer> {
  return withRenderer(async (r) => (await r.render(fig, ['png'], scale)).png!);
}

/** Writes `<dir>/<name>.html`, `.png`, `.svg` for one figure; returns the paths written. */
export async function writeFigureFiles(
  r: FigureRenderer,
  fig: Figure,
  dir: string,
  name: string,
  title: string,
): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const html = path.join(dir, `${name}.html`);
  fs.writeFileSync(html, figureHtml(fig, title));
  files.push(html);
  const img = await r.render(fig, ['png', 'svg']);
  if (img.png) fs.writeFileSync(path.join(dir, `${name}.png`), img.png), files.push(path.join(dir, `${name}.png`));
  if (img.svg) fs.writeFileSync(path.join(dir, `${name}.svg`), img.svg), files.push(path.join(dir, `${name}.svg`));
  return files;
}
