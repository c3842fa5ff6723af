// train-lenet.mjs — trains Caffe's LeNet on the bundled MNIST digits with the library API and saves it.
import { writeFile } from 'node:fs/promises';
import { ArrayBatchSource, Solver, device, lenet, loadMnistDigits, mnistSplit } from 'cudnet';

const digits = loadMnistDigits();                       // 10,000 digits, 28x28, values 0..1
const { train, val } = mnistSplit();                    // per class, the last 20% held out
const images = digits.images.map((v) => v * 255);       // LeNet's Data layer scales bytes by 1/256
const source = (indices, batchSize, shuffle) => new ArrayBatchSource({
  images, labels: digits.labels, shape: [1, 28, 28], batchSize, indices, shuffle, scale: 1 / 256,
});

const solver = new Solver({
  net_param: lenet({ batchSize: 64, testBatchSize: 100 }),   // Caffe's examples/mnist LeNet, as a NetParameter
  type: 'SGD', base_lr: 0.01, momentum: 0.9, weight_decay: 0.0005,
  lr_policy: 'inv', gamma: 0.0001, power: 0.75,
  max_iter: 1250, test_interval: 125, test_iter: [20], display: 125, snapshot_prefix: 'lenet',
}, {
  device: device('auto'),
  sources: { '*': source(train, 64, true) },
  testSources: [{ '*': source(val, 100, false) }],
});
solver.on('test', ({ iter, outputs }) => console.log(`iteration ${iter}: val accuracy ${(outputs.accuracy * 100).toFixed(2)}%`));
await solver.solve();                                   // 10 epochs of 125 iterations
await writeFile('lenet.caffemodel', await solver.net.toCaffemodel());
solver.dispose();
