import { plotlyJson, type Figure } from './common';
import { renderPng } from './render';

/**
 * Shows a figure in a tslab notebook as ONE display bundle with three representations, so every
 * front end picks what it can draw offline: VS Code and JupyterLab with a plotly renderer use
 * `application/vnd.plotly.v1+json` (interactive); classic Notebook and plain JupyterLab fall back
 * to `image/png` (rendered here by headless Chromium); terminals get `text/plain`.
 * Outside a kernel (scripts, tests) it prints the text. Returns nothing, so a notebook cell
 * ending in `await show(fig)` does not also print the bundle as the cell's value.
 */
export async function show(fig: Figure, opts: { png?: boolean; scale?: number } = {}): Promise<void> {
  const bundle = await displayBundle(fig, opts);
  const writer = tslabDisplayWriter();
  if (writer) writer({ data: bundle, metadata: {}, transient: {} }, false);
  else console.log(bundle['text/plain']);
}

/** The mime bundle `show` emits: plotly JSON, PNG (base64), text summary. */
export async function displayBundle(fig: Figure, opts: { png?: boolean; scale?: number } = {}): Promise<Record<string, unknown>> {
  const bundle: Record<string, unknown> = {
    'application/vnd.plotly.v1+json': JSON.parse(JSON.stringify(plotlyJson(fig))),
    'text/plain': describeFigure(fig),
  };
  if (opts.png !== false) bundle['image/png'] = (await renderPng(fig, opts.scale ?? 1)).toString('base64');
  return bundle;
}

/** A one-paragraph text stand-in: title, trace count, warnings. */
export function describeFigure(fig: Figure): string {
  const t = fig.layout.title as { text?: string } | string | undefined;
  const title = typeof t === 'string' ? t : t?.text ?? 'figure';
  const kinds = [...new Set(fig.data.map((d) => d.type ?? 'scatter'))].join(', ') || 'shapes only';
  const lines = [`${title.replace(/<[^>]+>/g, '')} [${fig.data.length} traces: ${kinds}]`];
  for (const w of fig.warnings ?? []) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

type DisplayWriter = (msg: { data: Record<string, unknown>; metadata: object; transient: object }, update: boolean) => void;

/**
 * tslab's public `display.raw` sends one mime type per message; a multi-mime bundle needs its
 * internal writer `lastWriteDisplayData`, set while a cell executes. The kernel loads tslab from
 * this workspace's node_modules, so this require reaches the same module instance.
 */
export function tslabDisplayWriter(): DisplayWriter | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData?: DisplayWriter | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}
