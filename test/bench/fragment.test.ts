// fragment.test.ts — --layer fragments: what they become, and the errors a bad one gives (messages asserted).
import t from 'tap';
import { parseLayerFragment, parameterFieldOf } from '../../lib/bench/fragment.js';
import { runBenchCli, type BenchOutput } from '../../lib/bench/cli.js';

/** Runs the command, collecting what it prints. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const output: BenchOutput = { out: (text) => void (out += `${text}\n`), err: (text) => void (err += `${text}\n`) };
  const code = await runBenchCli(argv, output);
  return { code, out, err };
}

t.test('a fragment becomes the type and its parameter message', async (t) => {
  const layer = parseLayerFragment('Convolution num_output:256 kernel_size:5 pad:2 group:2');
  t.equal(layer.type, 'Convolution');
  t.same(layer.bottom, ['input0']);
  t.same(layer.top, ['output']);
  t.equal(layer.convolution_param?.num_output, 256);
  t.same(layer.convolution_param?.kernel_size, [5]);
  t.same(layer.convolution_param?.pad, [2]);
  t.equal(layer.convolution_param?.group, 2);
  const nested = parseLayerFragment('InnerProduct num_output:10 weight_filler { type: "xavier" }');
  t.equal(nested.inner_product_param?.weight_filler?.type, 'xavier', 'nested messages in prototxt syntax');
  t.equal(parseLayerFragment('ReLU').type, 'ReLU', 'a type alone');
  t.equal(parameterFieldOf('LRN'), 'lrn_param');
  t.equal(parameterFieldOf('ReLU'), 'relu_param');
  t.equal(parameterFieldOf('InnerProduct'), 'inner_product_param');
});

t.test('bad fragments give errors that name what is wrong', async (t) => {
  const cases: [string, string][] = [
    ['Convolutoin num_output:3', `--layer "Convolutoin num_output:3": unknown layer type 'Convolutoin'; did you mean 'Convolution'?`],
    ['Convolution num_outptu:256',
      `--layer "Convolution num_outptu:256": column 13: unknown field 'num_outptu' in ConvolutionParameter; did you mean 'num_output'?`],
    ['Convolution num_output:abc', `--layer "Convolution num_output:abc": column 24: expected a number for 'num_output' but found abc`],
    ['Split top:1', '--layer "Split top:1": a Split layer takes no parameters, so nothing may follow its type'],
    ['  ', '--layer "  ": it is empty; write the layer type first, e.g. "Convolution num_output:64 kernel_size:3"'],
  ];
  for (const [fragment, message] of cases)
    t.throws(() => parseLayerFragment(fragment), { code: 'INVALID_LAYER_FRAGMENT', message }, fragment);
});

t.test('the command: a fragment the layer refuses, and a missing --input', async (t) => {
  const refused = await run(['--layer', 'Convolution num_output:256 kernel_size:5 group:3', '--input', '2x96x9x9',
    '--iterations', '1', '--warmup', '0']);
  t.equal(refused.code, 2, 'a bad fragment is a usage error');
  t.match(refused.err, 'cudnet bench: --layer "Convolution num_output:256 kernel_size:5 group:3": ' +
    'group 3 must divide both the 96 input channels and num_output 256 (with input 2x96x9x9)');
  const noInput = await run(['--layer', 'ReLU']);
  t.equal(noInput.code, 2);
  t.match(noInput.err, '--layer needs --input with the shape of its bottom, e.g. --input 16x96x27x27');
  const badShape = await run(['--layer', 'ReLU', '--input', '16x9a']);
  t.match(badShape.err, 'Expected a shape such as 16x96x27x27 (positive integers joined by x) for --input but received "16x9a"');
  const both = await run(['--layer', 'ReLU', '--network', 'lenet']);
  t.match(both.err, 'Give either --network <lenet|alexnet|file.prototxt> or --layer');
  const unknownNetwork = await run(['--network', 'vgg']);
  t.match(unknownNetwork.err, '--network "vgg" is neither a builtin network (lenet, alexnet) nor a prototxt file');
});
