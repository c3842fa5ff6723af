// Tests of the generic text-format parser: tokens, nesting, lists, positions.

import t from 'tap';
import { MAX_NESTING_DEPTH, parseTextFormat, type TextField, type TextMessage, type TextScalar } from '../../lib/caffe/index.js';

function scalar(field: TextField | undefined): TextScalar {
  if (field === undefined || field.value.kind === 'message') throw new Error('expected a scalar field');
  return field.value;
}

function message(field: TextField | undefined): TextMessage {
  if (field === undefined || field.value.kind !== 'message') throw new Error('expected a message field');
  return field.value;
}

t.test('fields, comments and positions', async (t) => {
  const tree = parseTextFormat('# a comment\nname: "LeNet"  # trailing\n  layer {\n    top: \'data\'\n  }\n');
  t.equal(tree.fields.length, 2);
  const [name, layer] = tree.fields;
  t.match(name, { name: 'name', line: 2, column: 1 });
  t.match(scalar(name), { kind: 'string', value: 'LeNet', line: 2, column: 7 });
  t.match(layer, { name: 'layer', line: 3, column: 3 });
  t.match(message(layer), { line: 3, column: 9 });
  t.match(message(layer).fields[0], { name: 'top', line: 4, column: 5 });
  t.equal(scalar(message(layer).fields[0]).value, 'data');
});

t.test('a colon before a brace, angle brackets, separators', async (t) => {
  const tree = parseTextFormat('a: { b: 1, c: 2; } d < e: 3 >');
  t.same(message(tree.fields[0]).fields.map((field) => field.name), ['b', 'c']);
  t.same(message(tree.fields[1]).fields.map((field) => scalar(field).value), [3]);
});

t.test('numbers', async (t) => {
  const text = 'a: 1 a: -2 a: 0.5 a: .25 a: 1e-3 a: -2.5E+2 a: 0x1F a: 1.5f a: inf a: -inf a: nan a: 7';
  const values = parseTextFormat(text).fields.map((field) => scalar(field));
  t.same(values.map((value) => value.kind), [
    'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'identifier', 'identifier', 'identifier', 'number',
  ]);
  t.same(values.slice(0, 8).map((value) => value.value), [1, -2, 0.5, 0.25, 0.001, -250, 31, 1.5]);
  t.same(values.slice(8, 11).map((value) => value.text), ['inf', '-inf', 'nan']);
});

t.test('strings: both quotes, escapes, concatenation', async (t) => {
  const text = String.raw`a: "x\"y" a: 'it\'s' a: "tab\there\nnewline" a: "\101\x42\\" a: "con" 'cat'`;
  const values = parseTextFormat(text).fields.map((field) => scalar(field).value);
  t.same(values, ['x"y', "it's", 'tab\there\nnewline', 'AB\\', 'concat']);
});

t.test('enums and booleans are identifiers', async (t) => {
  const values = parseTextFormat('pool: MAX mirror: true').fields.map((field) => scalar(field));
  t.match(values, [{ kind: 'identifier', text: 'MAX' }, { kind: 'identifier', text: 'true' }]);
});

t.test('list syntax expands into repeated fields', async (t) => {
  const tree = parseTextFormat('dim: [1, 3, 227, 227]\nshape: [{ dim: 1 }, { dim: 2 }]\nempty: []');
  t.same(tree.fields.map((field) => field.name), ['dim', 'dim', 'dim', 'dim', 'shape', 'shape']);
  t.same(tree.fields.slice(0, 4).map((field) => scalar(field).value), [1, 3, 227, 227]);
  t.match(tree.fields[1], { line: 1, column: 10 });
  t.same(tree.fields.slice(4).map((field) => scalar(message(field).fields[0]).value), [1, 2]);
});

t.test('an empty file is an empty message', async (t) => {
  t.same(parseTextFormat('  # nothing\n').fields, []);
});

t.test('messages nest up to 100 levels, as in protobuf', async (t) => {
  t.equal(MAX_NESTING_DEPTH, 100);
  let tree: TextMessage = parseTextFormat('a { '.repeat(100) + '}'.repeat(100));
  let depth = 0;
  while (tree.fields.length > 0) {
    tree = message(tree.fields[0]);
    depth++;
  }
  t.equal(depth, 100);
  t.throws(() => parseTextFormat('a { '.repeat(101) + '}'.repeat(101)),
    { code: 'PROTOTXT_SYNTAX', message: "<prototxt>:1:403: message 'a' is nested more than 100 levels deep" });
});
