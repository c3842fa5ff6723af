// args.test.ts — command-line flag parsing: forms, types, defaults, unknown flags with "did you mean", and the CLI's exit codes.
import t from 'tap';
import { parseFlags, type FlagSpecs } from '../../lib/cli/args.js';
import { runCli } from '../../lib/cli/main.js';
import { TRAIN_FLAGS } from '../../lib/cli/train.js';
import { captureStreams } from './fixtures/capture.js';

const SPECS: FlagSpecs = {
  epochs: { type: 'integer', default: 10, min: 1, description: 'epochs' },
  'base-lr': { type: 'number', min: 0, exclusiveMin: true, description: 'rate' },
  'lr-policy': { type: 'string', choices: ['fixed', 'inv', 'step'], description: 'policy' },
  quiet: { type: 'boolean', description: 'quiet' },
};

t.test('flags as "--name value" and "--name=value", booleans, defaults and positionals', async (t) => {
  const parsed = parseFlags(['--base-lr', '0.1', '--lr-policy=inv', '--quiet', 'extra'], SPECS);
  t.same(parsed.flags, { 'base-lr': 0.1, 'lr-policy': 'inv', quiet: true, epochs: 10 });
  t.same(parsed.positionals, ['extra']);
  t.equal(parseFlags(['--no-quiet'], SPECS).flags.quiet, false);
  t.equal(parseFlags(['-h'], SPECS).help, true);
});

t.test('cudnet train: --deterministic is on by default, --no-deterministic turns it off', async (t) => {
  t.equal(parseFlags([], TRAIN_FLAGS).flags.deterministic, true);
  t.equal(parseFlags(['--no-deterministic'], TRAIN_FLAGS).flags.deterministic, false);
  t.equal(parseFlags(['--deterministic=false'], TRAIN_FLAGS).flags.deterministic, false);
  t.equal(parseFlags(['--no-deterministic', '--deterministic'], TRAIN_FLAGS).flags.deterministic, true);
});

t.test('mistakes are reported with the flag named', async (t) => {
  t.throws(() => parseFlags(['--epoch', '3'], SPECS), { code: 'USAGE', message: 'Unknown option --epoch; did you mean --epochs?' });
  t.throws(() => parseFlags(['--base-lr'], SPECS), { message: 'Option --base-lr needs a value' });
  t.throws(() => parseFlags(['--epochs', '2.5'], SPECS), { message: 'Expected an integer for --epochs but received "2.5"' });
  t.throws(() => parseFlags(['--epochs', '0'], SPECS), { message: 'Expected an integer >= 1 for --epochs but received 0' });
  t.throws(() => parseFlags(['--base-lr', '0'], SPECS), { message: 'Expected a number > 0 for --base-lr but received 0' });
  t.throws(() => parseFlags(['--base-lr', 'fast'], SPECS), { message: 'Expected a number for --base-lr but received "fast"' });
  t.throws(() => parseFlags(['--lr-policy', 'stepp'], SPECS), { message: 'Expected one of fixed, inv, step for --lr-policy but received "stepp"; did you mean step?' });
  t.throws(() => parseFlags(['-e', '3'], SPECS), { message: /Unknown option -e/ });
});

t.test('cudnet: unknown commands and flags exit with 2 and a suggestion', async (t) => {
  const unknownCommand = captureStreams();
  t.equal(await runCli(['trian'], unknownCommand), 2);
  t.match(unknownCommand.err(), /Unknown command "trian"; did you mean "train"\?/);

  const unknownFlag = captureStreams();
  t.equal(await runCli(['train', '--epoch', '2'], unknownFlag), 2);
  t.equal(unknownFlag.err(), 'Unknown option --epoch; did you mean --epochs?\nRun `cudnet train --help` for the options.\n');

  const badValue = captureStreams();
  t.equal(await runCli(['time', '--iterations', 'many'], badValue), 2);
  t.match(badValue.err(), /Expected an integer for --iterations but received "many"/);

  const help = captureStreams();
  t.equal(await runCli(['train', '--help'], help), 0);
  t.match(help.out(), /Usage: cudnet train \[options\][\s\S]*--batch-size <n>\s+training images per iteration \(default 64\)/);
  t.match(help.out(), /\n  --deterministic\s+GPU convolutions use only cuDNN's deterministic algorithms, so a run repeats exactly from its --seed \(the default; --no-deterministic: the fastest algorithms\)\n/);

  const none = captureStreams();
  t.equal(await runCli([], none), 2);
  t.match(none.out(), /Usage: cudnet <command>/);

  const badNetwork = captureStreams();
  t.equal(await runCli(['train', '--network', 'alexnet', '--epochs', '1'], badNetwork), 1);
  t.match(badNetwork.err(), /Error \(INVALID_ARGUMENT\): AlexNet crops 227x227 images but the data is 28x28/);
});
