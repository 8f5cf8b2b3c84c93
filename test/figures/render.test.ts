import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeFigure, displayBundle, fig2, figureHtml, makeFakeRuns, fig3, writeAllFigures, writeFakeResults } from '../../lib/figures';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('figures: HTML, images, notebook bundle', function () {
  this.timeout(180_000);

  it('writes self-contained HTML: plotly inlined, no CDN or remote script', () => {
    const html = figureHtml(fig3(makeFakeRuns({ seed: 1, backbones: ['VGG16'], folds: 2 })), 'Fig. 3');
    assert.ok(!/<script[^>]+src=/i.test(html), 'no external script');
    assert.ok(!/<link[^>]+href="?https?:/i.test(html), 'no remote stylesheet');
    // Outside the inlined plotly bundle (which merely mentions its CDN for geo maps) nothing points online.
    const page = html.replace(/<script>[\s\S]*?<\/script>/, '');
    assert.ok(!/https?:\/\//i.test(page), 'no URL in the page itself');
    assert.ok(html.length > 1_000_000, 'plotly.min.js inlined');
    assert.ok(html.includes('"type":"box"'));
  });

  it('gives one notebook display bundle with plotly JSON, a real PNG and text', async () => {
    const bundle = await displayBundle(fig2());
    assert.deepStrictEqual(Object.keys(bundle).sort(), ['application/vnd.plotly.v1+json', 'image/png', 'text/plain']);
    const png = Buffer.from(bundle['image/png'] as string, 'base64');
    assert.ok(png.subarray(0, 4).equals(PNG_MAGIC));
    const json = bundle['application/vnd.plotly.v1+json'] as { data: unknown[]; layout: { shapes: unknown[] } };
    assert.ok(json.layout.shapes.length > 10);
    assert.ok(!('warnings' in json), 'only plotly fields in the plotly JSON');
    assert.match(bundle['text/plain'] as string, /^Fig\. 2\./);
    assert.match(describeFigure({ data: [], layout: {}, warnings: ['x missing'] }), /warning: x missing/);
  });

  it('writeAllFigures writes HTML, PNG, SVG per item, CSV per table and an index, naming what is missing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-figs-'));
    try {
      writeFakeResults(dir, { seed: 5, backbones: ['VGG16', 'ResNet50'], folds: 2, sizes: [1, 8], repeats: 2, drop: (r) => r.regime === 'partial' });
      const report = await writeAllFigures(dir, { params: 'runs', only: ['table2', 'fig3', 'fig8'], log: () => {} });
      const out = path.join(dir, 'figures');
      const names = fs.readdirSync(out).sort();
      for (const f of ['table2.html', 'table2.png', 'table2.svg', 'table2.csv', 'fig3.html', 'fig3.png', 'fig3.svg', 'fig8.html', 'index.html', 'figures.json']) {
        assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);
      }
      assert.ok(fs.readFileSync(path.join(out, 'fig3.png')).subarray(0, 4).equals(PNG_MAGIC));
      assert.match(fs.readFileSync(path.join(out, 'fig3.svg'), 'utf8'), /^<svg/);
      const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
      assert.ok(index.includes('href="fig3.html"') && index.includes('href="table2.csv"'));
      // no partial runs: Fig. 8 says which are needed
      assert.ok(report.warnings.some((w) => w.includes('partial VGG16')), report.warnings.join('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
