/**
 * Figures and tables of the paper, one module per item, each a function from results (run
 * records + design) or cohort data to a plotly.js figure `{data, layout}`; plus export (HTML,
 * PNG, SVG, CSV) and `show` for notebooks.
 */
export * from './common';
export * from './results';
export * from './params';
export * from './table';
export * from './table1';
export * from './table2';
export * from './table3';
export * from './fig1';
export * from './fig2';
export * from './fig3';
export * from './fig4';
export * from './fig5';
export * from './fig6';
export * from './fig7';
export * from './fig8';
export * from './fig9';
export * from './fake';
export * from './render';
export * from './show';
export * from './export';
export * from './patches';
export * from './explore';
export * from './reference';
