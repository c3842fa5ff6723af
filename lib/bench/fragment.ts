// fragment.ts — one layer written on the command line ("Convolution num_output:256 kernel_size:5 pad:2 group:2")
// read into a LayerParameter, and "16x96x27x27" shapes.
import {
  LayerParameterSchema, PrototxtError, describeField, fieldNames, parseMessagePrototxt,
  type LayerParameter, type MessageSchema,
} from '../caffe/index.js';
import type { z } from 'zod';
import { CudnetError, closestName } from '../errors.js';
import { layerTypes } from '../net/index.js';

/** The flag a fragment comes from, named in every error. */
const SOURCE = '--layer';

/** An error about the --layer fragment; `code` INVALID_LAYER_FRAGMENT, the message quotes the fragment. */
export function fragmentError(fragment: string, reason: string): CudnetError {
  return new CudnetError('INVALID_LAYER_FRAGMENT', `${SOURCE} "${fragment}": ${reason}`);
}

/** The schema of LayerParameter field `name`, or undefined when there is no such field. */
function layerField(name: string): z.ZodType | undefined {
  const shape = (LayerParameterSchema as unknown as MessageSchema).shape;
  return Object.hasOwn(shape, name) ? (shape[name] as z.ZodType) : undefined;
}

/**
 * The parameter message of a layer type: Caffe names it after the type in snake case
 * (Convolution → convolution_param, InnerProduct → inner_product_param, LRN → lrn_param,
 * ReLU → relu_param); undefined for a type without one (Split, Silence).
 */
export function parameterFieldOf(type: string): string | undefined {
  const snake = type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const candidates = [`${snake}_param`, `${type.toLowerCase()}_param`];
  return candidates.find((name) => layerField(name) !== undefined);
}

/** The message schema of LayerParameter field `name` (e.g. ConvolutionParameter for convolution_param). */
function messageSchemaOf(name: string): MessageSchema {
  const value = describeField(layerField(name)!).value;
  if (value.kind !== 'message') throw new Error(`${name} is not a message field`);
  return value.schema;
}

/** CamelCase message name for error messages: convolution_param → ConvolutionParameter. */
function messageNameOf(field: string): string {
  const base = field.replace(/_param$/, '');
  const special: Record<string, string> = { lrn: 'LRN', relu: 'ReLU' };
  return (special[base] ?? base.split('_').map((word) => word[0].toUpperCase() + word.slice(1)).join('')) + 'Parameter';
}

/**
 * Reads a fragment: the layer type, then the fields of its parameter message in prototxt syntax
 * (`name: value`, nested `weight_filler { type: "xavier" }`). The layer gets bottoms
 * "input0".."inputB-1" and the top "output". Errors name the fragment and what is wrong: an unknown
 * type (with "did you mean"), a type that takes no parameters, or the field and column at fault.
 */
export function parseLayerFragment(fragment: string, bottomCount = 1): LayerParameter {
  const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(fragment);
  if (!match) throw fragmentError(fragment, 'it is empty; write the layer type first, e.g. "Convolution num_output:64 kernel_size:3"');
  const [, type, rest] = match;
  if (!layerTypes().includes(type)) {
    const suggestion = closestName(type, layerTypes());
    throw fragmentError(fragment, `unknown layer type '${type}'` +
      (suggestion ? `; did you mean '${suggestion}'?` : `; known types: ${layerTypes().join(', ')}`));
  }
  const field = parameterFieldOf(type);
  const fields = rest.trim() === '' ? {} : { [fieldFor(fragment, type, field)]: readParameters(fragment, type, field!) };
  const layer = {
    name: type.toLowerCase(), type,
    bottom: Array.from({ length: bottomCount }, (_, i) => `input${i}`), top: ['output'],
    ...fields,
  };
  return LayerParameterSchema.parse(layer);
}

function fieldFor(fragment: string, type: string, field: string | undefined): string {
  if (field === undefined) throw fragmentError(fragment, `a ${type} layer takes no parameters, so nothing may follow its type`);
  return field;
}

/**
 * Parses the text after the type as the type's parameter message. The type is blanked out rather
 * than cut, so the columns in a parse error point into the fragment as the user wrote it.
 */
function readParameters(fragment: string, type: string, field: string): unknown {
  const text = fragment.replace(type, ' '.repeat(type.length));
  try {
    return parseMessagePrototxt(text, messageSchemaOf(field), messageNameOf(field), { file: SOURCE });
  } catch (error) {
    if (!(error instanceof PrototxtError)) throw error;
    // A misspelt field without a near miss gets the list of the message's fields.
    const list = /unknown field/.test(error.reason) && !/did you mean/.test(error.reason)
      ? ` (fields of ${field}: ${fieldNames(messageSchemaOf(field)).join(', ')})` : '';
    throw fragmentError(fragment, `column ${error.column}: ${error.reason}${list}`);
  }
}

/** Reads "16x96x27x27" (or "96x27x27" when `allowUnbatched`) into positive integers; the error names `flag`. */
export function parseShape(text: string, flag: string): number[] {
  const parts = text.trim().split(/x/i);
  const dims = parts.map((part) => Number(part));
  if (parts.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1) || parts.some((part) => !/^\d+$/.test(part.trim())))
    throw new CudnetError('USAGE', `Expected a shape such as 16x96x27x27 (positive integers joined by x) for ${flag} but received "${text}"`);
  return dims;
}
