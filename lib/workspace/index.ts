/**
 * The project workspace: where presets' cohorts and results live, and making them on demand.
 * lib/study imports ./paths and ./cohort directly (this index also re-exports ./results, which
 * runs the study).
 */
export * from './paths';
export * from './cohort';
export * from './results';
