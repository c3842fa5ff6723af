// Tests that every malformed prototxt gives the right file:line:column, code and message.

import t from 'tap';
import { parseNetPrototxt, parseSolverPrototxt, PrototxtError, type PrototxtErrorCode } from '../../lib/caffe/index.js';

interface ErrorCase {
  name: string;
  text: string;
  code: PrototxtErrorCode;
  message: string;
  solver?: boolean;
}

const cases: ErrorCase[] = [
  {
    name: 'misspelled field, with a suggestion',
    text: 'name: "LeNet"\nlayer {\n  name: "conv1"\n  type: "Convolution"\n  convolution_param {\n    num_output: 20\n    kernal_size: 5\n  }\n}\n',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:7:5: unknown field 'kernal_size' in convolution_param; did you mean 'kernel_size'?",
  },
  {
    name: 'misspelled top-level field',
    text: 'nmae: "x"',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:1: unknown field 'nmae' in NetParameter; did you mean 'name'?",
  },
  {
    name: 'unknown field with nothing close',
    text: 'layer { name: "a" type: "ReLU" colour: 3 }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:32: unknown field 'colour' in layer",
  },
  {
    name: 'a Caffe field that is not supported',
    text: 'layer { name: "bn" type: "BatchNorm" batch_norm_param { } }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:38: 'batch_norm_param' in layer is a Caffe field that cudnet does not support yet",
  },
  {
    name: 'a string where a number is expected',
    text: 'layer {\n  name: "c"\n  type: "Convolution"\n  convolution_param { num_output: "abc" }\n}',
    code: 'PROTOTXT_SCHEMA',
    message: 'lenet.prototxt:4:35: expected a number for \'num_output\' but found "abc"',
  },
  {
    name: 'a fraction where an integer is expected',
    text: 'layer { name: "c" type: "Convolution" convolution_param { num_output: 20.5 } }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:71: expected a non-negative integer for 'num_output' but found 20.5",
  },
  {
    name: 'a negative unsigned integer',
    text: 'layer { name: "c" type: "Convolution" convolution_param { num_output: -3 } }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:71: expected a non-negative integer for 'num_output' but found -3",
  },
  {
    name: 'an unknown enum value lists the allowed ones',
    text: 'layer {\n  name: "p"\n  type: "Pooling"\n  pooling_param {\n    pool: MAXX\n  }\n}',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:5:11: unknown value 'MAXX' for 'pool'; expected one of MAX, AVE, STOCHASTIC; did you mean 'MAX'?",
  },
  {
    name: 'an unknown enum value with nothing close',
    text: 'layer { name: "p" type: "Pooling" pooling_param { pool: MEDIAN } }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:57: unknown value 'MEDIAN' for 'pool'; expected one of MAX, AVE, STOCHASTIC",
  },
  {
    name: 'an enum number out of range',
    text: 'layer { name: "p" type: "Pooling" pooling_param { pool: 7 } }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:57: unknown value 7 for 'pool'; expected one of MAX, AVE, STOCHASTIC",
  },
  {
    name: 'a quoted enum value',
    text: 'layer { name: "p" type: "Pooling" pooling_param { pool: "AVE" } }',
    code: 'PROTOTXT_SCHEMA',
    message: 'lenet.prototxt:1:57: expected one of MAX, AVE, STOCHASTIC for \'pool\' but found "AVE"; write it without quotes',
  },
  {
    name: 'a boolean that is not one',
    text: 'force_backward: yes',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:17: expected true or false for 'force_backward' but found yes",
  },
  {
    name: 'an unquoted string',
    text: 'layer { name: conv1 type: "ReLU" }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:15: expected a quoted string for 'name' but found conv1",
  },
  {
    name: 'a message where a scalar is expected',
    text: 'name { x: 1 }',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:6: expected a quoted string for 'name' but found a message { ... }",
  },
  {
    name: 'a scalar where a message is expected',
    text: 'layer: 3',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:8: expected a message { ... } for 'layer' but found 3",
  },
  {
    name: 'a singular field given twice',
    text: 'name: "a"\nname: "b"',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:2:1: 'name' is given twice in NetParameter (first at 1:1) but it is not a repeated field",
  },
  {
    name: 'a layer without a type',
    text: 'name: "x"\nlayer {\n  name: "a"\n}',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:2:1: missing required field 'type' in layer",
  },
  {
    name: 'an unterminated string',
    text: 'name: "LeNet\nlayer {}',
    code: 'PROTOTXT_SYNTAX',
    message: 'lenet.prototxt:1:7: unterminated string: no closing " on the same line',
  },
  {
    name: 'an unterminated single-quoted string at the end of the file',
    text: "layer { name: 'a",
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:15: unterminated string: no closing ' on the same line",
  },
  {
    name: 'an unterminated brace points at the brace',
    text: 'name: "x"\nlayer {\n  name: "a"\n  type: "ReLU"\n',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:2:7: unterminated message 'layer': this '{' has no matching '}' before the end of the file",
  },
  {
    name: 'an unterminated nested brace',
    text: 'layer {\n  name: "a" type: "ReLU"\n  relu_param {\n    negative_slope: 0.1\n',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:3:14: unterminated message 'relu_param': this '{' has no matching '}' before the end of the file",
  },
  {
    name: 'a closing brace too many',
    text: 'name: "x"\n}\n',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:2:1: unexpected '}': there is no open '{' to close",
  },
  {
    name: 'a missing colon',
    text: 'name "x"',
    code: 'PROTOTXT_SYNTAX',
    message: 'lenet.prototxt:1:6: expected \':\' or \'{\' after field name \'name\' but found "x"',
  },
  {
    name: 'a missing value',
    text: 'layer { name: }',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:15: expected a value for 'name' but found '}'",
  },
  {
    name: 'a stray character',
    text: 'name: "x" @',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:11: unexpected character '@'",
  },
  {
    name: 'a malformed number',
    text: 'layer { name: "c" type: "Convolution" convolution_param { num_output: 12abc } }',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:71: invalid number '12abc'",
  },
  {
    name: 'an unterminated list',
    text: 'input_dim: [1, 2',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:12: unterminated list 'input_dim': this '[' has no matching ']' before the end of the file",
  },
  {
    name: 'a list without commas',
    text: 'input_dim: [1 2]',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:15: expected ',' or ']' in the list 'input_dim' but found '2'",
  },
  {
    name: 'an invalid escape',
    text: 'name: "a\\qb"',
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:9: invalid escape sequence '\\q' in string",
  },
  {
    name: 'messages nested thousands of levels deep (protobuf\'s limit is 100)',
    text: 'layer { '.repeat(5000) + '}'.repeat(5000),
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:807: message 'layer' is nested more than 100 levels deep",
  },
  {
    name: 'lists of messages nested too deep',
    text: 'a: [{ '.repeat(3000),
    code: 'PROTOTXT_SYNTAX',
    message: "lenet.prototxt:1:605: message 'a' is nested more than 100 levels deep",
  },
  {
    name: 'a misspelled solver field',
    text: 'base_lr: 0.01\nlr_polcy: "inv"',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:2:1: unknown field 'lr_polcy' in SolverParameter; did you mean 'lr_policy'?",
    solver: true,
  },
  {
    name: 'a solver enum',
    text: 'solver_mode: TPU',
    code: 'PROTOTXT_SCHEMA',
    message: "lenet.prototxt:1:14: unknown value 'TPU' for 'solver_mode'; expected one of CPU, GPU; did you mean 'CPU'?",
    solver: true,
  },
];

for (const errorCase of cases) {
  t.test(errorCase.name, async (t) => {
    const parse = errorCase.solver ? parseSolverPrototxt : parseNetPrototxt;
    const error = t.throws(() => parse(errorCase.text, { file: 'lenet.prototxt' })) as PrototxtError;
    t.ok(error instanceof PrototxtError, 'a PrototxtError');
    t.equal(error.message, errorCase.message);
    t.equal(error.code, errorCase.code);
    const [, line, column] = /^lenet\.prototxt:(\d+):(\d+): /.exec(errorCase.message)!;
    t.match(error, { file: 'lenet.prototxt', line: Number(line), column: Number(column) });
    t.equal(error.reason, errorCase.message.replace(/^[^ ]+ /, ''));
  });
}

t.test('without a file name the message says <prototxt>', async (t) => {
  t.throws(() => parseNetPrototxt('nmae: "x"'), { message: "<prototxt>:1:1: unknown field 'nmae' in NetParameter; did you mean 'name'?" });
});
