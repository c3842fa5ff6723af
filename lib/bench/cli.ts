// cli.ts — `cudnet bench` and `cudnet bench compare`: flags, the run, the terminal tables and the JSON and HTML files.
import { writeFileSync } from 'node:fs';
import { formatFlags, parseFlags, UsageError, type FlagSpecs } from '../cli/args.js';
import { CudnetError } from '../errors.js';
import { compareReports, formatComparison, readReport } from './compare.js';
import { parseShape } from './fragment.js';
import { reportHtml } from './html.js';
import { networkFromFragment, networkFromName, type BenchNetwork } from './network.js';
import type { BenchReport, Precision } from './report.js';
import { runBenchmark } from './run.js';
import { formatMachine, formatRun, formatThroughput } from './table.js';

/** Where the command writes: the tables to `out`, progress and errors to `err`. */
export interface BenchOutput {
  out(text: string): void;
  err(text: string): void;
}

const consoleOutput: BenchOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

const RUN_FLAGS: FlagSpecs = {
  network: { type: 'string', value: '<lenet|alexnet|file.prototxt>', description: 'the network: a builtin one or a prototxt file' },
  layer: { type: 'string', value: '"<Type> field:value ..."', description: 'one layer instead of a network, e.g. "Convolution num_output:256 kernel_size:5 pad:2 group:2"' },
  input: { type: 'string', value: '<NxCxHxW[,...]>', description: 'the --layer bottoms; with --network, the image shape CxHxW for Data layers' },
  device: { type: 'string', value: '<cpu|cuda:N|all>', default: 'cpu', description: 'where to run' },
  'batch-sizes': { type: 'string', value: '<1,16,64>', description: 'batch sizes to run (default 16, or N of --input)' },
  iterations: { type: 'integer', min: 1, default: 10, description: 'timed iterations' },
  warmup: { type: 'integer', min: 0, default: 3, description: 'untimed iterations first' },
  phase: { type: 'string', choices: ['train', 'test'], default: 'train', description: 'train: forward and backward (train_val); test: forward (deploy)' },
  precision: { type: 'string', choices: ['fp32', 'tf32'], default: 'fp32', description: 'GPU math: fp32, or TF32 tensor cores' },
  algorithms: { type: 'boolean', description: 'list every cuDNN algorithm of each convolution with its time and workspace' },
  json: { type: 'string', value: '<out.json>', description: 'write the report as JSON' },
  html: { type: 'string', value: '<out.html>', description: 'write the report as a self-contained HTML page' },
};

const USAGE = `Usage: cudnet bench --network <lenet|alexnet|file.prototxt> [options]
       cudnet bench --layer "<Type> field:value ..." --input NxCxHxW [options]
       cudnet bench compare <a.json> <b.json>

Times each layer's forward and backward (median, min/max and IQR over the iterations after warm-up,
each call timed to a device synchronize), with FLOPs, bytes, GFLOP/s, GB/s and the fraction of the
device's measured peak, then whole iterations and images/s.

Options:
${formatFlags(RUN_FLAGS)}`;

/** Reads "1,16,64" into positive integers. */
function parseBatchSizes(text: string): number[] {
  const sizes = text.split(',').map((part) => Number(part.trim()));
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 1))
    throw new UsageError(`Expected positive integers separated by commas for --batch-sizes but received ${JSON.stringify(text)}`);
  return sizes;
}

/** The network of --network or --layer (exactly one of them). */
function chooseNetwork(flags: Record<string, unknown>): BenchNetwork {
  const { network, layer, input } = flags as { network?: string; layer?: string; input?: string };
  if ((network === undefined) === (layer === undefined))
    throw new UsageError('Give either --network <lenet|alexnet|file.prototxt> or --layer "<Type> field:value ..." (exactly one)');
  const phase = flags.phase === 'test' ? 'TEST' : 'TRAIN';
  if (layer !== undefined) {
    if (input === undefined) throw new UsageError('--layer needs --input with the shape of its bottom, e.g. --input 16x96x27x27');
    const shapes = input.split(',').map((text) => parseShape(text, '--input'));
    if (shapes.some((shape) => shape.length < 2))
      throw new UsageError(`Expected NxCxHxW shapes (batch first) for --input but received "${input}"`);
    return networkFromFragment(layer, shapes);
  }
  const imageShape = input === undefined ? undefined : parseShape(input, '--input');
  const built = networkFromName(network!, phase, imageShape && imageShape.length === 4 ? imageShape.slice(1) : imageShape);
  return imageShape?.length === 4 ? { ...built, defaultBatchSize: imageShape[0] } : built;
}

/** Writes the JSON and HTML files asked for. */
function writeOutputs(report: BenchReport, flags: Record<string, unknown>, output: BenchOutput): void {
  if (typeof flags.json === 'string') {
    writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    output.err(`wrote ${flags.json}`);
  }
  if (typeof flags.html === 'string') {
    writeFileSync(flags.html, reportHtml(report));
    output.err(`wrote ${flags.html}`);
  }
}

async function runCommand(argv: string[], output: BenchOutput): Promise<number> {
  const { flags, positionals, help } = parseFlags(argv, RUN_FLAGS);
  if (help) return void output.out(USAGE), 0;
  if (positionals.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!/^(cpu|cuda|cuda:\d+|all)$/.test(flags.device as string))
    throw new UsageError(`Expected cpu, cuda:N or all for --device but received ${JSON.stringify(flags.device)}`);
  const network = chooseNetwork(flags);
  const batchSizes = typeof flags['batch-sizes'] === 'string' ? parseBatchSizes(flags['batch-sizes']) : [network.defaultBatchSize];
  const report = await runBenchmark(network, {
    device: flags.device as string, batchSizes, iterations: flags.iterations as number, warmup: flags.warmup as number,
    precision: flags.precision as Precision, algorithms: flags.algorithms === true, command: ['bench', ...argv],
    onProgress: (message) => output.err(`... ${message}`),
    onRun: (run) => output.out(`\n${formatRun(run)}`),
  });
  output.out(`\n${formatThroughput(report)}\n${formatMachine(report)}`);
  writeOutputs(report, flags, output);
  return 0;
}

function compareCommand(argv: string[], output: BenchOutput): number {
  const { positionals, help } = parseFlags(argv, {});
  if (help) return void output.out(USAGE), 0;
  if (positionals.length !== 2) throw new UsageError('compare takes two reports: cudnet bench compare <a.json> <b.json>');
  const [a, b] = positionals.map(readReport);
  output.out(`comparing ${positionals[0]} (before) with ${positionals[1]} (after); ratio = after / before, ` +
    '! = beyond the combined IQR of both runs and at least 5%\n');
  output.out(formatComparison(compareReports(a, b)));
  return 0;
}

/** `cudnet bench ...`: returns the exit code (0 done, 1 failed, 2 bad usage or layer fragment); prints errors rather than throwing. */
export async function runBenchCli(argv: string[], output: BenchOutput = consoleOutput): Promise<number> {
  try {
    return argv[0] === 'compare' ? compareCommand(argv.slice(1), output) : await runCommand(argv, output);
  } catch (error) {
    const usage = error instanceof UsageError ||
      (error instanceof CudnetError && (error.code === 'USAGE' || error.code === 'INVALID_LAYER_FRAGMENT'));
    output.err(`cudnet bench: ${(error as Error).message ?? String(error)}`);
    if (usage) output.err('Run "cudnet bench --help" for the options.');
    return usage ? 2 : 1;
  }
}
