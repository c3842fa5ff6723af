// Reads network and solver prototxt into typed messages, upgrading the legacy forms Caffe upgrades and rejecting the V1 format.

import { readFile } from 'node:fs/promises';
import { PrototxtError, type TextPosition } from './errors.js';
import type { MessageSchema } from './schema-fields.js';
import {
  LayerParameterSchema, NetParameterSchema, SolverParameterSchema, UNSUPPORTED_LAYER_FIELDS,
  type LayerParameter, type NetParameter, type SolverParameter, type SolverType,
} from './schema.js';
import { parseTextFormat, UNNAMED_FILE, type TextDocument, type TextParseOptions } from './text-format.js';
import { messageFromText } from './text-to-message.js';
import type { z } from 'zod';

const UNSUPPORTED_FIELDS = new Map<MessageSchema, readonly string[]>([
  [LayerParameterSchema as unknown as MessageSchema, UNSUPPORTED_LAYER_FIELDS],
]);

/**
 * Parses a network prototxt (train_val.prototxt, deploy.prototxt). The legacy `input:` with
 * `input_dim:` or `input_shape { }` becomes an Input layer named "input" at the front, as Caffe's
 * UpgradeNetInput does. The V1 format (`layers { type: CONVOLUTION }`) is refused with advice.
 * Throws PrototxtError.
 */
export function parseNetPrototxt(text: string, options: TextParseOptions = {}): NetParameter {
  const file = options.file ?? UNNAMED_FILE;
  const tree = parseTextFormat(text, { file });
  rejectV1Layers(tree, file);
  const net = messageFromText(tree, NetParameterSchema as unknown as MessageSchema, 'NetParameter', {
    file, unsupportedFields: UNSUPPORTED_FIELDS,
  }) as NetParameter;
  return upgradeNetInput(net, legacyInputPosition(tree), file);
}

/**
 * Parses a solver prototxt. The legacy `solver_type: ADAM` enum becomes `type: "Adam"`, as
 * Caffe's UpgradeSolverType does; inline nets (net_param, train_net_param, test_net_param) are
 * upgraded like parseNetPrototxt. Throws PrototxtError.
 */
export function parseSolverPrototxt(text: string, options: TextParseOptions = {}): SolverParameter {
  const file = options.file ?? UNNAMED_FILE;
  const tree = parseTextFormat(text, { file });
  const solver = messageFromText(tree, SolverParameterSchema as unknown as MessageSchema, 'SolverParameter', {
    file, unsupportedFields: UNSUPPORTED_FIELDS,
  }) as SolverParameter;
  upgradeSolverType(solver, tree, file);
  return upgradeInlineNets(solver, tree, file);
}

/** Reads and parses a network prototxt file; errors name the file. */
export async function loadNetPrototxt(path: string): Promise<NetParameter> {
  return parseNetPrototxt(await readFile(path, 'utf8'), { file: path });
}

/** Reads and parses a solver prototxt file; errors name the file. */
export async function loadSolverPrototxt(path: string): Promise<SolverParameter> {
  return parseSolverPrototxt(await readFile(path, 'utf8'), { file: path });
}

/** Parses any message type by its schema, without the net and solver upgrades. */
export function parseMessagePrototxt<T extends MessageSchema>(
  text: string, schema: T, messageName: string, options: TextParseOptions = {},
): z.output<T> {
  const file = options.file ?? UNNAMED_FILE;
  return messageFromText(parseTextFormat(text, { file }), schema, messageName, { file, unsupportedFields: UNSUPPORTED_FIELDS });
}

function rejectV1Layers(tree: TextDocument, file: string): void {
  const v1 = tree.fields.find((field) => field.name === 'layers');
  if (v1 === undefined) return;
  throw new PrototxtError('PROTOTXT_SCHEMA', file, v1,
    "'layers' is the deprecated V1 network format (layers { type: CONVOLUTION ... }); cudnet reads the current " +
    "format with 'layer' blocks and string types (layer { type: \"Convolution\" ... }). Convert the file with " +
    "Caffe's tool: upgrade_net_proto_text OLD.prototxt NEW.prototxt");
}

function legacyInputPosition(tree: TextDocument): TextPosition {
  return tree.fields.find((field) => field.name === 'input' || field.name === 'input_dim' || field.name === 'input_shape') ?? tree;
}

/** Caffe's UpgradeNetInput: legacy net inputs become one Input layer, placed first. */
function upgradeNetInput(net: NetParameter, position: TextPosition, file: string): NetParameter {
  const { input, input_dim: inputDim, input_shape: inputShape } = net;
  if (input.length === 0 && inputDim.length === 0 && inputShape.length === 0) return net;
  const fail = (reason: string) => new PrototxtError('PROTOTXT_SCHEMA', file, position, reason);
  if (input.length === 0) throw fail("'input_dim' or 'input_shape' is given without any 'input' blob name");
  let shapes: number[][];
  if (inputShape.length > 0) {
    if (inputShape.length !== input.length) {
      throw fail(`${input.length} 'input' blob(s) but ${inputShape.length} 'input_shape'; give one input_shape per input`);
    }
    shapes = inputShape.map((shape) => shape.dim);
  } else {
    if (inputDim.length !== 4 * input.length) {
      throw fail(`${input.length} 'input' blob(s) need ${4 * input.length} 'input_dim' values (N, C, H, W each) but ${inputDim.length} are given`);
    }
    shapes = input.map((_, index) => inputDim.slice(4 * index, 4 * index + 4));
  }
  const inputLayer: LayerParameter = LayerParameterSchema.parse({
    name: 'input', type: 'Input', top: input, input_param: { shape: shapes.map((dim) => ({ dim })) },
  });
  return { ...net, input: [], input_dim: [], input_shape: [], layer: [inputLayer, ...net.layer] };
}

/** Caffe's UpgradeSolverType: the enum names of the old solver_type field, as `type` strings. */
const SOLVER_TYPE_NAMES: Record<z.output<typeof SolverType>, string> = {
  SGD: 'SGD', NESTEROV: 'Nesterov', ADAGRAD: 'AdaGrad', RMSPROP: 'RMSProp', ADADELTA: 'AdaDelta', ADAM: 'Adam',
};

function upgradeSolverType(solver: SolverParameter, tree: TextDocument, file: string): void {
  if (solver.solver_type === undefined) return;
  const legacy = tree.fields.find((field) => field.name === 'solver_type')!;
  const modern = tree.fields.find((field) => field.name === 'type');
  if (modern !== undefined) {
    throw new PrototxtError('PROTOTXT_SCHEMA', file, legacy,
      "give either 'type' (a string) or the deprecated 'solver_type' (an enum), not both");
  }
  solver.type = SOLVER_TYPE_NAMES[solver.solver_type];
  delete solver.solver_type;
}

function upgradeInlineNets(solver: SolverParameter, tree: TextDocument, file: string): SolverParameter {
  const positionOf = (name: string) => tree.fields.find((field) => field.name === name) ?? tree;
  const upgraded = { ...solver };
  if (solver.net_param) upgraded.net_param = upgradeNetInput(solver.net_param, positionOf('net_param'), file);
  if (solver.train_net_param) {
    upgraded.train_net_param = upgradeNetInput(solver.train_net_param, positionOf('train_net_param'), file);
  }
  upgraded.test_net_param = solver.test_net_param.map((net) => upgradeNetInput(net, positionOf('test_net_param'), file));
  return upgraded;
}
