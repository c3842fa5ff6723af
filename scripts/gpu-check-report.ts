// gpu-check-report.ts — what the GPU check reads and writes, kept apart from running it so every parser
// is tested on every commit: the training log, `cudnet time --json`, `cudnet bench --algorithms` JSON,
// the PyTorch timing line, the cross-check's per-op errors, and the report (JSON and Markdown).

export type Status = 'ok' | 'fail' | 'skipped';

export interface Step {
  name: string;
  status: Status;
  seconds: number;
  /** One line: the figure, or why it failed or was skipped. */
  summary: string;
  detail?: unknown;
}

// ---- parsers -------------------------------------------------------------------------------------

/** The JSON document a command printed, after any lines of its own before it (a banner, a warning). */
export function jsonDocument(stdout: string): unknown {
  const start = stdout.search(/^[{[]/m);
  if (start < 0) throw new Error(`no JSON in the output: ${JSON.stringify(stdout.slice(0, 200))}`);
  return JSON.parse(stdout.slice(start));
}

/** The last line of `stdout` that is a JSON object (the PyTorch script prints one). */
export function lastJsonLine(stdout: string): unknown {
  const line = stdout.trim().split('\n').reverse().find((text) => text.trimStart().startsWith('{'));
  if (line === undefined) throw new Error(`no JSON line in the output: ${JSON.stringify(stdout.slice(-200))}`);
  return JSON.parse(line);
}

interface LogMemory { bytes: number; cachedBytes: number }
interface LogRecord { type: string; iter: number; epoch: number; accuracy?: number; loss?: number; time: number; memory?: LogMemory }

export interface TrainingSummary {
  records: number;
  /** Held-out accuracy after each validation, in order. */
  accuracies: number[];
  finalAccuracy: number | undefined;
  seconds: number | undefined;
  /** Device bytes (live tensors + cache): at the first record, the largest, and the growth once both nets have run. */
  memory: { firstBytes: number; peakBytes: number; grewBytes: number } | undefined;
}

/** Reads `cudnet train`'s log.jsonl: accuracy per validation, the time, and whether memory grew. */
export function summarizeTrainingLog(text: string): TrainingSummary {
  const records = text.split('\n').filter((line) => line.trim() !== '').map((line, index) => {
    try {
      return JSON.parse(line) as LogRecord;
    } catch {
      throw new Error(`log.jsonl line ${index + 1} is not JSON: ${JSON.stringify(line.slice(0, 120))}`);
    }
  });
  const accuracies = records.filter((r) => r.type === 'val' && typeof r.accuracy === 'number').map((r) => r.accuracy!);
  const end = records.find((r) => r.type === 'done' || r.type === 'stopped');
  const measured = records.filter((r) => r.memory !== undefined);
  const held = measured.map((r) => r.memory!.bytes + r.memory!.cachedBytes);
  // Both nets are in place once each has run once: the training net by the first record, the
  // validation net (whose outputs are made on its first pass) by the first val record. Anything more
  // after that is growth.
  const settled = Math.max(0, measured.findIndex((r) => r.type === 'val'));
  const baseline = held.length > 0 ? Math.max(...held.slice(0, settled + 1)) : 0;
  const memory = held.length > 0
    ? { firstBytes: held[0], peakBytes: Math.max(...held), grewBytes: Math.max(0, Math.max(...held) - baseline) }
    : undefined;
  return {
    records: records.length, accuracies, finalAccuracy: end?.accuracy ?? accuracies.at(-1),
    seconds: end?.time, memory,
  };
}

export interface NetTiming {
  device: string;
  precision: string;
  batchSize: number;
  /** Forward + backward (Net::Forward then Net::Backward), median ms. */
  forwardBackwardMs: number;
  /** Forward + backward + the solver's update, median ms. */
  trainStepMs: number;
}

/** Reads `cudnet time --json`. */
export function parseTimeReport(stdout: string): NetTiming {
  const report = jsonDocument(stdout) as Record<string, unknown>;
  for (const key of ['iterationMs', 'iterationForwardMs', 'iterationBackwardMs', 'batchSize'])
    if (typeof report[key] !== 'number') throw new Error(`cudnet time's JSON has no number ${key}`);
  return {
    device: String(report.device), precision: String(report.precision ?? 'fp32'), batchSize: report.batchSize as number,
    forwardBackwardMs: (report.iterationForwardMs as number) + (report.iterationBackwardMs as number),
    trainStepMs: report.iterationMs as number,
  };
}

export interface PytorchTiming {
  torch: string;
  device: string;
  /** Per precision ('fp32', 'tf32'): the same two figures as NetTiming. */
  timings: Record<string, { forwardBackwardMs: number; trainStepMs: number }>;
}

/** Reads the PyTorch script's JSON line. */
export function parsePytorchTiming(stdout: string): PytorchTiming {
  const parsed = lastJsonLine(stdout) as PytorchTiming;
  if (typeof parsed.torch !== 'string' || typeof parsed.timings !== 'object' || parsed.timings === null)
    throw new Error('the PyTorch timing has no torch version or no timings');
  for (const [precision, timing] of Object.entries(parsed.timings)) {
    if (typeof timing.trainStepMs !== 'number' || typeof timing.forwardBackwardMs !== 'number')
      throw new Error(`the PyTorch timing for ${precision} lacks trainStepMs or forwardBackwardMs`);
  }
  return parsed;
}

export interface AlgorithmPick {
  layer: string;
  direction: 'forward' | 'backwardData' | 'backwardFilter';
  picked: string | undefined;
  pickedMs: number | undefined;
  fastest: string | undefined;
  fastestMs: number | undefined;
  /** Why the fastest listed one is not the pick: tensor-core math in fp32, over the workspace limit, ... */
  why: string;
}

interface ListedAlgorithm {
  name: string; status: string; milliseconds: number | null; workspaceBytes: number; mathType: number;
  deterministic: boolean; picked: boolean;
}

/** From `cudnet bench --algorithms --json`: per convolution and direction, cudnet's pick beside the fastest listed. */
export function algorithmPicks(benchJson: unknown): { kind: 'cuda' | 'cpu'; picks: AlgorithmPick[]; note?: string } {
  const runs = (benchJson as { runs?: Array<{ algorithms?: { kind: string; note?: string; convolutions?: unknown[] } }> }).runs;
  const algorithms = runs?.[0]?.algorithms;
  if (!algorithms) throw new Error('the bench report has no algorithms (was --algorithms given?)');
  if (algorithms.kind === 'cpu') return { kind: 'cpu', picks: [], note: algorithms.note };
  const picks: AlgorithmPick[] = [];
  for (const convolution of (algorithms.convolutions ?? []) as Array<Record<string, unknown>>) {
    for (const direction of ['forward', 'backwardData', 'backwardFilter'] as const) {
      const list = convolution[direction] as ListedAlgorithm[];
      const ran = list.filter((entry) => entry.status === 'CUDNN_STATUS_SUCCESS' && entry.milliseconds !== null);
      const fastest = ran.reduce<ListedAlgorithm | undefined>((best, entry) =>
        best === undefined || entry.milliseconds! < best.milliseconds! ? entry : best, undefined);
      const picked = list.find((entry) => entry.picked);
      let why = 'the fastest';
      if (picked === undefined) why = 'none picked';
      else if (fastest !== undefined && picked !== fastest) {
        if (fastest.mathType === 1 && !convolution.tf32) why = 'the fastest uses tensor-core (TF32) math, refused in fp32';
        else if (fastest.mathType === 2) why = 'the fastest converts to FP16';
        else if (fastest.workspaceBytes > (convolution.workspaceLimitBytes as number)) why = 'the fastest needs more workspace than the limit';
        else if (!fastest.deterministic && picked.deterministic) why = 'the fastest is not deterministic';
        else why = 'differs from the fastest listed';
      }
      picks.push({
        layer: String(convolution.layer), direction, picked: picked?.name, pickedMs: picked?.milliseconds ?? undefined,
        fastest: fastest?.name, fastestMs: fastest?.milliseconds ?? undefined, why,
      });
    }
  }
  return { kind: 'cuda', picks };
}

export interface OpAgreement { name: string; output: string; relativeError: number }

/** The cross-check's per-op file: every case and output with its largest relative error, worst first. */
export function opAgreement(json: unknown): { device: string; standIn: boolean; precision: string; ops: OpAgreement[] } {
  const parsed = json as { device: string; standIn: boolean; precision?: string; agreement: Record<string, Record<string, number | null>> };
  if (typeof parsed.agreement !== 'object' || parsed.agreement === null) throw new Error('the cross-check report has no agreement');
  const ops: OpAgreement[] = [];
  for (const [name, outputs] of Object.entries(parsed.agreement))
    for (const [output, error] of Object.entries(outputs)) ops.push({ name, output, relativeError: error ?? Infinity });
  ops.sort((a, b) => b.relativeError - a.relativeError);
  return { device: parsed.device, standIn: parsed.standIn, precision: parsed.precision ?? 'fp32', ops };
}

export interface AgreementFigure {
  device: string;
  standIn: boolean;
  /** The GPU side's math: fp32, or tf32 (a CPU standing in always computes fp32). */
  precision: string;
  worst: OpAgreement[];
  count: number;
  /** Every output within the bar: 1e-5 relative in fp32, 1e-3 with TF32. */
  withinBar: boolean;
}

/** The report's figure for one cross-check run: the worst outputs and whether all are within the bar. */
export function agreementFigure(json: unknown, requested: 'fp32' | 'tf32'): AgreementFigure {
  const parsed = opAgreement(json);
  const bar = requested === 'tf32' ? 1e-3 : 1e-5;
  return {
    device: parsed.device, standIn: parsed.standIn, precision: parsed.precision, worst: parsed.ops.slice(0, 15),
    count: parsed.ops.length, withinBar: parsed.ops.every((op) => op.relativeError <= bar),
  };
}

// ---- the report ------------------------------------------------------------------------------------

export interface Report {
  date: string;
  mode: 'gpu' | 'rehearsal';
  node: string;
  versions: Record<string, string>;
  steps: Step[];
  figures: {
    agreement?: AgreementFigure;
    agreementTf32?: AgreementFigure;
    lenet?: TrainingSummary;
    alexnet?: { cudnet: NetTiming[]; pytorch?: PytorchTiming; ratios: Record<string, number> };
    algorithms?: ReturnType<typeof algorithmPicks>;
  };
  ok: boolean;
}

/** cudnet's train step over PyTorch's, per precision measured by both (below 1: cudnet is faster). */
export function ratios(cudnet: NetTiming[], pytorch: PytorchTiming | undefined): Record<string, number> {
  const result: Record<string, number> = {};
  for (const timing of cudnet) {
    const theirs = pytorch?.timings[timing.precision];
    if (theirs) result[timing.precision] = timing.trainStepMs / theirs.trainStepMs;
  }
  return result;
}

const cell = (text: unknown) => String(text).replace(/\|/g, '/').replace(/\n/g, ' ');
const ms = (value: number | undefined) => value === undefined ? '-' : value.toFixed(2);

/** The Markdown page of the report: the steps, then each figure as a table. */
export function reportMarkdown(report: Report): string {
  const lines = [
    `# cudnet GPU check${report.mode === 'rehearsal' ? ' (rehearsal: the CPU stands in for the GPU)' : ''}`, '',
    `${report.date}, Node ${report.node}`, '',
    ...Object.entries(report.versions).map(([name, version]) => `- ${name}: ${version}`), '',
    '| step | status | seconds | summary |', '|---|---|---|---|',
    ...report.steps.map((s) => `| ${cell(s.name)} | ${s.status} | ${s.seconds.toFixed(1)} | ${cell(s.summary)} |`),
  ];
  const { agreement, agreementTf32, lenet, alexnet, algorithms } = report.figures;
  for (const [figure, asked] of [[agreement, 'fp32'], [agreementTf32, 'tf32']] as const) {
    if (!figure) continue;
    lines.push('', `## Agreement with the CPU, ${asked} (${figure.count} outputs, ${figure.withinBar ? 'all' : 'NOT all'} within ${asked === 'tf32' ? '1e-3' : '1e-5'}` +
      `${figure.standIn ? `; ${figure.device} standing in, computing ${figure.precision}` : ''}; worst first)`, '',
      '| case | output | max relative error |', '|---|---|---|',
      ...figure.worst.map((op) => `| ${cell(op.name)} | ${cell(op.output)} | ${op.relativeError.toExponential(2)} |`));
  }
  if (lenet) {
    lines.push('', '## LeNet on MNIST, 10 epochs', '',
      `final held-out accuracy ${lenet.finalAccuracy ?? '-'}, ${lenet.seconds?.toFixed(1) ?? '-'} s; ` +
      (lenet.memory ? `memory ${(lenet.memory.firstBytes / 2 ** 20).toFixed(1)} MiB at the first record, peak ${(lenet.memory.peakBytes / 2 ** 20).toFixed(1)} MiB, growth ${(lenet.memory.grewBytes / 2 ** 20).toFixed(1)} MiB` : 'memory not logged'));
  }
  if (alexnet) {
    lines.push('', '## AlexNet', '', '| who | precision | batch | forward+backward ms | train step ms |', '|---|---|---|---|---|',
      ...alexnet.cudnet.map((t) => `| cudnet ${t.device} | ${t.precision} | ${t.batchSize} | ${ms(t.forwardBackwardMs)} | ${ms(t.trainStepMs)} |`),
      ...Object.entries(alexnet.pytorch?.timings ?? {}).map(([precision, t]) =>
        `| PyTorch ${alexnet.pytorch!.torch} ${alexnet.pytorch!.device} | ${precision} | ${alexnet.cudnet[0]?.batchSize ?? '-'} | ${ms(t.forwardBackwardMs)} | ${ms(t.trainStepMs)} |`),
      '', ...Object.entries(alexnet.ratios).map(([precision, ratio]) => `train step, ${precision}: cudnet / PyTorch = ${ratio.toFixed(3)} (below 1 is faster)`));
  }
  if (algorithms) {
    lines.push('', '## cuDNN algorithms: the pick against the fastest listed', '');
    if (algorithms.kind === 'cpu') lines.push(algorithms.note ?? 'CPU');
    else lines.push('| layer | direction | picked | ms | fastest listed | ms | why |', '|---|---|---|---|---|---|---|',
      ...algorithms.picks.map((p) => `| ${p.layer} | ${p.direction} | ${p.picked ?? '-'} | ${ms(p.pickedMs)} | ${p.fastest ?? '-'} | ${ms(p.fastestMs)} | ${p.why} |`));
  }
  lines.push('', report.ok ? 'Result: every step ok or skipped with its reason.' : 'Result: FAILED (see the steps above).');
  return `${lines.join('\n')}\n`;
}
