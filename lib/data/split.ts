// The per-class three-way split of DIGITS (digits/tools/parse_folder.py::three_way_split_indices), rounding included.

/**
 * Splits `size` items into train / val / test counts for the given percentages.
 * Rounds each share (Python 2 round: half away from zero), then moves single items
 * around so that every split with a non-zero percentage gets at least one item.
 */
export function threeWaySplit(size: number, valPercent: number, testPercent: number): { train: number; val: number; test: number } {
  const trainPercent = 100 - (valPercent + testPercent);
  if (trainPercent >= 100) return { train: size, val: 0, test: 0 };
  if (valPercent >= 100) return { train: 0, val: size, test: 0 };
  if (testPercent >= 100) return { train: 0, val: 0, test: size };
  let train = Math.round((size * trainPercent) / 100);
  if (trainPercent && !train) train = 1;
  let val = Math.round((size * valPercent) / 100);
  if (train + val > size) val = size - train;
  if (valPercent && !val) {
    if (train > 1) {
      train -= 1;
      val = 1;
    } else if (train !== size) {
      val = 1;
    }
  }
  let test = size - (train + val);
  if (testPercent && !test) {
    if (val > 1) {
      val -= 1;
      test = 1;
    } else if (train > 1) {
      train -= 1;
      test = 1;
    }
  }
  return { train, val, test };
}

/** How many splits get a share: a class needs at least this many images to stay. */
export function requiredSplits(valPercent: number, testPercent: number): number {
  return (100 - valPercent - testPercent > 0 ? 1 : 0) + (valPercent > 0 ? 1 : 0) + (testPercent > 0 ? 1 : 0);
}
