#!/usr/bin/env node
// main.ts — the `cudnet` command: train, time and dataset create; errors printed with their code, never a stack for a user mistake.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runDatasetCreateCli, runDatasetExportCaffeCli, runDatasetImportCaffeCli } from '../data/index.js';
import { CudnetError, closestName, isSystemError } from '../errors.js';
import type { CliStreams } from './streams.js';

const COMMANDS = ['train', 'time', 'bench', 'dataset', 'serve'] as const;

export const MAIN_USAGE = `Usage: cudnet <command> [options]

Commands:
  train                 train a network (LeNet on MNIST with no options)
  time                  time a network's layers, forward and backward (as caffe time)
  bench                 per-layer timings with FLOPs, bytes and fraction of peak; compare two reports
  dataset create        import images into an LMDB dataset (as DIGITS)
  dataset export-caffe  LMDB 0.9 copies of a dataset's databases for Caffe, DIGITS and py-lmdb
  dataset import-caffe  a Caffe/DIGITS (LMDB 0.9) database copied into one cudnet reads
  serve                 the training app in the browser (datasets, models, live training, classification)

Run \`cudnet <command> --help\` for a command's options.`;

type Runner = (argv: readonly string[], streams: CliStreams) => Promise<number>;

/** Commands load on demand, so `cudnet dataset` does not load the engine and `--help` stays fast. */
async function runnerFor(command: (typeof COMMANDS)[number]): Promise<Runner> {
  if (command === 'train') return (await import('./train.js')).runTrainCli;
  if (command === 'time') return (await import('./time.js')).runTimeCli;
  if (command === 'bench') {
    const { runBenchCli } = await import('../bench/cli.js');
    return (argv, streams) => runBenchCli([...argv], {
      out: (text) => streams.stdout.write(`${text}\n`),
      err: (text) => streams.stderr.write(`${text}\n`),
    });
  }
  if (command === 'serve') {
    const { runServeCli } = await import('../app/cli.js');
    return (argv) => runServeCli([...argv]);
  }
  return (argv, streams) => runDatasetCreateCli(argv, streams);
}

/** Runs the command line (without node and the script); returns the exit code: 0 ok, 1 failed, 2 usage. */
export async function runCli(argv: readonly string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    streams.stdout.write(`${MAIN_USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const suggestion = closestName(command, COMMANDS);
    streams.stderr.write(`Unknown command "${command}"${suggestion ? `; did you mean "${suggestion}"?` : ''}\n\n${MAIN_USAGE}\n`);
    return 2;
  }
  if (command === 'dataset' && rest[0] !== 'create' && rest[0] !== 'export-caffe' && rest[0] !== 'import-caffe' && rest[0] !== '--help' && rest[0] !== '-h') {
    streams.stderr.write(`Unknown dataset command${rest[0] ? ` "${rest[0]}"` : ''}: use \`cudnet dataset create\`, \`export-caffe\` or \`import-caffe\`\n`);
    return 2;
  }
  try {
    if (command === 'dataset' && rest[0] === 'export-caffe') return await runDatasetExportCaffeCli(rest.slice(1), streams);
    if (command === 'dataset' && rest[0] === 'import-caffe') return await runDatasetImportCaffeCli(rest.slice(1), streams);
    const run = await runnerFor(command as (typeof COMMANDS)[number]);
    return await run(command === 'dataset' ? rest.slice(rest[0] === 'create' ? 1 : 0) : rest, streams);
  } catch (error) {
    return reportError(error, command, streams);
  }
}

/**
 * A command's failure as its exit code, printed as one line: a CudnetError with its code (a usage
 * error also points to --help), a system error (EACCES, ENOSPC, ...) with its code. Anything else
 * is a bug in cudnet and is rethrown, so that its stack is printed.
 */
function reportError(error: unknown, command: string, streams: CliStreams): number {
  if (isSystemError(error)) {
    streams.stderr.write(`Error (${error.code}): ${error.message}\n`);
    return 1;
  }
  if (!(error instanceof CudnetError)) throw error;
  if (error.code === 'USAGE') {
    streams.stderr.write(`${error.message}\nRun \`cudnet ${command} --help\` for the options.\n`);
    return 2;
  }
  streams.stderr.write(`Error (${error.code}): ${error.message}\n`);
  return 1;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
