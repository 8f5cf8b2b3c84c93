/**
 * Parsers of numeric command-line values for commander options (`.option('--keep <n>', '...', positiveInt)`):
 * an invalid value stops the command before it does anything, with commander's message
 * `error: option '--max-runs <m>' argument 'abc' is invalid. must be a positive integer (1, 2, ...)`.
 */
import { InvalidArgumentError } from 'commander';

function parsed(text: string): number {
  // Number('') and Number(' ') are 0; an empty value is not a number.
  return text.trim() === '' ? NaN : Number(text);
}

function integer(text: string, min: number, what: string): number {
  const n = parsed(text);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be ${what}`);
  return n;
}

/** 1, 2, 3, ... */
export const positiveInt = (text: string): number => integer(text, 1, 'a positive integer (1, 2, ...)');

/** 0, 1, 2, ... */
export const nonNegativeInt = (text: string): number => integer(text, 0, 'an integer >= 0');

/** Any integer (seeds). */
export const anyInt = (text: string): number => integer(text, Number.MIN_SAFE_INTEGER, 'an integer');

/** A finite number > 0. */
export const positiveNumber = (text: string): number => {
  const n = parsed(text);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('must be a number > 0');
  return n;
};

/** A finite number in (0, 1]. */
export const fraction = (text: string): number => {
  const n = parsed(text);
  if (!(Number.isFinite(n) && n > 0 && n <= 1)) throw new InvalidArgumentError('must be a number in (0, 1]');
  return n;
};

/** A TCP port, 1-65535. */
export const port = (text: string): number => {
  const n = parsed(text);
  if (!(Number.isInteger(n) && n >= 1 && n <= 65535)) throw new InvalidArgumentError('must be a port number 1-65535');
  return n;
};

/** A comma-separated list of positive integers ('1,2'). */
export const positiveIntList = (text: string): number[] => {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) throw new InvalidArgumentError('must be comma-separated positive integers (e.g. 1,2)');
  return parts.map(Number);
};
