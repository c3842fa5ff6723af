// formats-worker.ts — the child process of formats.test.ts: reads seeded mutations of the bundled prototxts
// and of a LeNet .caffemodel, one after another, and reports each on stdout as one JSON line, written
// synchronously before and after it runs, so that the parent knows which input was running if this process
// dies. Arguments: seed, most cases, time budget in ms, and optionally the one case to run.
import { readFileSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseNetPrototxt, parseSolverPrototxt, readCaffemodel } from '../../lib/caffe/index.js';
import { CudnetError } from '../../lib/errors.js';
import { lenet } from '../../lib/models/index.js';
import { Net } from '../../lib/net/index.js';
import { packageRoot } from '../../lib/native.js';
import { rng } from '../helpers/index.js';

type Random = () => number;

/** One input: its name and its bytes (text is mutated as its UTF-8 bytes, like a file). */
interface Target {
  name: string;
  bytes: Uint8Array;
  kind: 'net' | 'solver' | 'caffemodel';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function below(random: Random, n: number): number {
  return Math.floor(random() * n);
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[below(random, items.length)]!;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    result.set(part, at);
    at += part.length;
  }
  return result;
}

function varint(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Uint8Array.from(bytes);
}

/** A protobuf length-delimited field: tag, length, content. */
function lengthDelimited(field: number, content: Uint8Array): Uint8Array {
  return concat(varint(BigInt((field << 3) | 2)), varint(BigInt(content.length)), content);
}

const HUGE_TEXT_NUMBERS = [
  '4294967296', '2147483648', '-2147483649', '9007199254740993', '18446744073709551616', '1e308', '-1e308', '1e400',
  '0x7fffffffffffffff', '0xffffffffffffffffff', '99999999999999999999999999', '-0', '1e-400', '4294967295',
];
const HUGE_VARINTS = [2n ** 31n, 2n ** 32n + 5n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];

/** A mutation changes the bytes and says what it did, so that a failure can be read and replayed. */
type Mutation = (bytes: Uint8Array, random: Random, kind: Target['kind']) => { bytes: Uint8Array; what: string };

const MUTATIONS: Mutation[] = [
  function flipBits(bytes, random) {
    if (bytes.length === 0) return { bytes, what: 'flip nothing (empty)' };
    const result = bytes.slice();
    const positions: string[] = [];
    for (let i = 0, n = 1 + below(random, 8); i < n; i++) {
      const at = below(random, result.length), bit = 1 << below(random, 8);
      result[at] ^= bit;
      positions.push(`${at}^${bit}`);
    }
    return { bytes: result, what: `flip bits ${positions.join(',')}` };
  },
  function setBytes(bytes, random) {
    if (bytes.length === 0) return { bytes, what: 'set nothing (empty)' };
    const result = bytes.slice();
    const at = below(random, result.length), value = pick(random, [0, 0x7f, 0x80, 0xff, below(random, 256)]);
    result[at] = value;
    return { bytes: result, what: `set byte ${at} to ${value}` };
  },
  function truncate(bytes, random) {
    const at = below(random, bytes.length + 1);
    return { bytes: bytes.slice(0, at), what: `truncate at ${at}` };
  },
  function duplicate(bytes, random) {
    const start = below(random, bytes.length + 1), end = start + below(random, Math.min(4096, bytes.length - start) + 1);
    const to = below(random, bytes.length + 1), copies = 1 + below(random, 3);
    const slice = bytes.slice(start, end);
    const repeated = concat(...Array.from({ length: copies }, () => slice));
    return { bytes: concat(bytes.slice(0, to), repeated, bytes.slice(to)), what: `insert ${copies} copies of ${start}..${end} at ${to}` };
  },
  function deepNesting(bytes, random, kind) {
    const depth = pick(random, [99, 100, 101, 1000, 20000]);
    const at = below(random, bytes.length + 1);
    let inserted: Uint8Array;
    if (kind === 'caffemodel') {
      const field = pick(random, [100, 1, 7, 2]);
      inserted = new Uint8Array(0);
      for (let i = 0; i < depth; i++) inserted = lengthDelimited(field, inserted);
    } else {
      const name = pick(random, ['layer', 'x', 'convolution_param', 'net_param', 'shape']);
      const closed = random() < 0.5;
      inserted = encoder.encode(`${name} { `.repeat(depth) + (closed ? '} '.repeat(depth) : ''));
    }
    return { bytes: concat(bytes.slice(0, at), inserted, bytes.slice(at)), what: `insert ${depth} nested messages at ${at}` };
  },
  function hugeNumber(bytes, random, kind) {
    if (kind === 'caffemodel') {
      const at = below(random, bytes.length + 1), value = pick(random, HUGE_VARINTS);
      const asLength = random() < 0.5;
      const inserted = asLength ? concat(varint(BigInt((100 << 3) | 2)), varint(value)) : varint(value);
      return {
        bytes: concat(bytes.slice(0, at), inserted, bytes.slice(at)),
        what: `insert ${asLength ? 'a field of length' : 'the varint'} ${value} at ${at}`,
      };
    }
    const text = decoder.decode(bytes);
    const numbers = [...text.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)];
    const huge = pick(random, HUGE_TEXT_NUMBERS);
    if (numbers.length === 0) return { bytes: encoder.encode(`${text}\nbase_lr: ${huge}`), what: `append a number ${huge}` };
    const found = pick(random, numbers);
    const replaced = text.slice(0, found.index) + huge + text.slice(found.index! + found[0].length);
    return { bytes: encoder.encode(replaced), what: `replace ${found[0]} at ${found.index} with ${huge}` };
  },
];

/** The case's own generator: the same (seed, case) always gives the same input. */
function caseRandom(seed: number, index: number): Random {
  return rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

function mutate(target: Target, random: Random): { bytes: Uint8Array; what: string } {
  let bytes = target.bytes;
  const steps: string[] = [];
  for (let i = 0, n = 1 + below(random, 3); i < n; i++) {
    const mutation = pick(random, MUTATIONS);
    const result = mutation(bytes, random, target.kind);
    bytes = result.bytes;
    steps.push(`${mutation.name}: ${result.what}`);
  }
  return { bytes, what: steps.join('; ') };
}

function targets(): { list: Target[]; lenetNet: Net } {
  const folder = join(packageRoot(), 'models');
  const list: Target[] = readdirSync(folder).filter((name) => name.endsWith('.prototxt')).sort().map((name) => ({
    name, bytes: new Uint8Array(readFileSync(join(folder, name))), kind: name.includes('solver') ? 'solver' : 'net',
  }));
  const lenetNet = Net.fromParameter(lenet({ variant: 'deploy' }), { device: 'cpu' });
  return { list, lenetNet };
}

async function readInput(target: Target, bytes: Uint8Array, net: Net): Promise<void> {
  if (target.kind === 'caffemodel') {
    readCaffemodel(bytes, { file: 'lenet.caffemodel' });
    net.loadCaffemodel(bytes);
    return;
  }
  const text = decoder.decode(bytes);
  if (target.kind === 'solver') parseSolverPrototxt(text, { file: target.name });
  else parseNetPrototxt(text, { file: target.name });
}

function report(line: object): void {
  writeSync(1, `${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const [seedText, casesText, budgetText, onlyText] = process.argv.slice(2);
  const seed = Number(seedText), cases = Number(casesText), budget = Number(budgetText);
  const { list, lenetNet } = targets();
  list.push({ name: 'lenet.caffemodel', bytes: await lenetNet.toCaffemodel(), kind: 'caffemodel' });
  const started = performance.now();
  const indices = onlyText === undefined ? Array.from({ length: cases }, (_, i) => i) : [Number(onlyText)];
  for (const index of indices) {
    if (performance.now() - started > budget) break;
    const random = caseRandom(seed, index);
    // A third of the cases are caffemodels, the rest spread over the prototxts.
    const target = random() < 1 / 3 ? list[list.length - 1]! : list[below(random, list.length - 1)]!;
    const { bytes, what } = mutate(target, random);
    report({ start: index, target: target.name, mutation: what });
    const begin = performance.now();
    let code: string | null = null;
    try {
      await readInput(target, bytes, lenetNet);
    } catch (error) {
      if (!(error instanceof CudnetError) || typeof error.code !== 'string') {
        const e = error as Error;
        report({ notCudnetError: index, error: `${e?.name}: ${e?.message}`, stack: e?.stack?.split('\n').slice(0, 8).join('\n') });
      }
      code = (error as { code?: string }).code ?? null;
    }
    report({ end: index, ms: performance.now() - begin, code });
  }
}

await main();
