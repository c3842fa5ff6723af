// The per-class split and its rounding at small class sizes, against DIGITS' three_way_split_indices worked by hand.
import t from 'tap';
import { requiredSplits, threeWaySplit } from '../../lib/data/split.js';

t.test('three-way split rounding', async (t) => {
  const cases: [number, number, number, [number, number, number]][] = [
    [10, 25, 0, [8, 2, 0]], // round(7.5) = 8 train, round(2.5) = 3 val is cut to 2
    [100, 25, 0, [75, 25, 0]],
    [2, 25, 0, [1, 1, 0]], // train rounds to 2, val 1 would overflow: one image moves to val
    [1, 25, 0, [1, 0, 0]], // too small for val: the class is dropped before splitting (requiredSplits = 2)
    [3, 25, 25, [1, 1, 1]],
    [4, 25, 25, [2, 1, 1]],
    [5, 10, 10, [3, 1, 1]],
    [7, 0, 0, [7, 0, 0]],
    [7, 100, 0, [0, 7, 0]],
    [7, 0, 100, [0, 0, 7]],
    [9, 50, 50, [0, 5, 4]],
  ];
  for (const [size, val, test, expected] of cases) {
    const split = threeWaySplit(size, val, test);
    t.same([split.train, split.val, split.test], expected, `${size} images, ${val}% val, ${test}% test`);
  }
  t.equal(requiredSplits(25, 0), 2);
  t.equal(requiredSplits(25, 10), 3);
  t.equal(requiredSplits(0, 0), 1);
  t.equal(requiredSplits(50, 50), 2);
});
