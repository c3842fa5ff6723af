// run.ts — the benchmark dispatcher: `npm run bench -- <name> [args]` runs bench/<name>.ts's exported run(args).
// Run after `npm run build`: node dist/bench/run.js ops|lrn|dataset|inference|... [args]
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closestName } from '../lib/errors.js';

type BenchModule = { run?: (args: string[]) => Promise<void> | void };

/** The benchmarks beside this file: every module but this one. */
function benchNames(): string[] {
  const folder = dirname(fileURLToPath(import.meta.url));
  return readdirSync(folder)
    .filter((file) => file.endsWith('.js') && file !== 'run.js')
    .map((file) => file.slice(0, -'.js'.length))
    .sort();
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const names = benchNames();
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`Usage: npm run bench -- <name> [args]\nBenchmarks: ${names.join(', ')}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!names.includes(name)) {
    const suggestion = closestName(name, names);
    process.stderr.write(`Unknown benchmark "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (known: ${names.join(', ')})\n`);
    return 2;
  }
  const module = (await import(pathToFileURL(`${dirname(fileURLToPath(import.meta.url))}/${name}.js`).href)) as BenchModule;
  if (typeof module.run !== 'function') {
    process.stderr.write(`bench/${name} exports no run(args) function\n`);
    return 2;
  }
  await module.run(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
