/** How many values of an array are NaN or +-Inf, and the index of the first (-1 when none). */
export function nonFiniteCount(data: ArrayLike<number>): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is NaN exactly for NaN and +-Inf: one test in the hot loop.
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { count, first };
}
