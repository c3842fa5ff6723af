// formats.test.ts — fuzzing the readers of Caffe's formats: a few thousand seeded mutations (bit flips,
// truncations, duplications, deep nesting, huge numbers) of the bundled prototxts and of a LeNet .caffemodel,
// read in a child process so that a crash is seen. No input may crash the reader, take over 2 s, or throw
// anything but a CudnetError with a string code.
//
// The seed changes from run to run (printed); CUDNET_FUZZ_SEED=<seed> repeats a run, and with
// CUDNET_FUZZ_CASE=<n> only its case n.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const CASES = 4000;
const BUDGET_MS = 30_000;
const CASE_LIMIT_MS = 2000;

const worker = fileURLToPath(new URL('./formats-worker.ts', import.meta.url));
const seed = Number(process.env.CUDNET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const only = process.env.CUDNET_FUZZ_CASE;

interface Line {
  start?: number; target?: string; mutation?: string;
  end?: number; ms?: number; code?: string | null;
  notCudnetError?: number; error?: string; stack?: string;
}

t.test(`readers of prototxt and caffemodel under mutation (seed ${seed})`, async (t) => {
  const args = [...process.execArgv, worker, String(seed), String(CASES), String(BUDGET_MS), ...(only ? [only] : [])];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: BUDGET_MS + 60_000, maxBuffer: 256 << 20 });
  const lines: Line[] = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const started = new Map<number, Line>();
  for (const line of lines) if (line.start !== undefined) started.set(line.start, line);
  const replay = (index: number) => {
    const input = started.get(index);
    return `CUDNET_FUZZ_SEED=${seed} CUDNET_FUZZ_CASE=${index}: ${input?.target}: ${input?.mutation}`;
  };

  const ended = lines.filter((line) => line.end !== undefined);
  const unfinished = [...started.keys()].filter((index) => !ended.some((line) => line.end === index));
  t.ok(result.status === 0 && result.signal === null && unfinished.length === 0,
    `the reader process ends normally (status ${result.status}, signal ${result.signal}` +
      `${unfinished.length ? `, stopped in ${replay(unfinished[0]!)}` : ''}): ${result.stderr.slice(-2000)}`);

  for (const line of lines.filter((line) => line.notCudnetError !== undefined))
    t.fail(`not a CudnetError with a code: ${replay(line.notCudnetError!)}\n${line.error}\n${line.stack}`);
  for (const line of ended.filter((line) => line.ms! > CASE_LIMIT_MS))
    t.fail(`took ${line.ms!.toFixed(0)} ms (over ${CASE_LIMIT_MS}): ${replay(line.end!)}`);

  const codes = new Map<string, number>();
  for (const line of ended) codes.set(line.code ?? 'read', (codes.get(line.code ?? 'read') ?? 0) + 1);
  const slowest = Math.max(0, ...ended.map((line) => line.ms!));
  t.comment(`seed ${seed}: ${ended.length} inputs, slowest ${slowest.toFixed(0)} ms; outcomes ` +
    [...codes].map(([code, count]) => `${code} ${count}`).join(', '));
  if (!only) t.ok(ended.length >= 1000, `${ended.length} inputs read within the time budget (at least 1000)`);
});
