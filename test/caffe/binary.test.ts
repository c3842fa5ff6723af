// Tests of the .caffemodel, .solverstate and .binaryproto readers and writers, including bytes built by hand.

import t from 'tap';
import {
  CaffeBinaryError, readBinaryproto, readCaffemodel, readSolverstate, writeBinaryproto, writeCaffemodel, writeSolverstate,
  type CaffeModel,
} from '../../lib/caffe/index.js';

/** A protobuf encoder written out by hand, independent of protobufjs, to build test files field by field. */
const wire = {
  varint(value: number): number[] {
    const bytes: number[] = [];
    let rest = BigInt.asUintN(64, BigInt(value));
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      bytes.push(rest > 0n ? low | 0x80 : low);
    } while (rest > 0n);
    return bytes;
  },
  tag(field: number, wireType: number): number[] {
    return wire.varint(field * 8 + wireType);
  },
  integerField(field: number, value: number): number[] {
    return [...wire.tag(field, 0), ...wire.varint(value)];
  },
  delimited(field: number, content: number[]): number[] {
    return [...wire.tag(field, 2), ...wire.varint(content.length), ...content];
  },
  stringField(field: number, text: string): number[] {
    return wire.delimited(field, [...new TextEncoder().encode(text)]);
  },
  float(value: number): number[] {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    return [...bytes];
  },
  double(value: number): number[] {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    return [...bytes];
  },
  packedFloats(field: number, values: number[]): number[] {
    return wire.delimited(field, values.flatMap(wire.float));
  },
  unpackedFloats(field: number, values: number[]): number[] {
    return values.flatMap((value) => [...wire.tag(field, 5), ...wire.float(value)]);
  },
  packedDoubles(field: number, values: number[]): number[] {
    return wire.delimited(field, values.flatMap(wire.double));
  },
};

const bytesOf = (values: number[]) => Uint8Array.from(values);

function sampleModel(): CaffeModel {
  return {
    name: 'LeNet',
    layers: [
      { name: 'data', type: 'Input', top: ['data'], blobs: [] },
      {
        name: 'conv1', type: 'Convolution', bottom: ['data'], top: ['conv1'],
        blobs: [
          { shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, index) => index / 7 - 1) },
          { shape: [2], data: Float32Array.of(0.5, -0.25) },
        ],
      },
      { name: 'ip', type: 'InnerProduct', blobs: [{ shape: [3, 300], data: new Float32Array(900).fill(1e-3) }] },
    ],
  };
}

t.test('caffemodel write → read round trip', async (t) => {
  const model = sampleModel();
  const read = readCaffemodel(writeCaffemodel(model));
  t.equal(read.name, 'LeNet');
  t.same(read.layers.map((layer) => [layer.name, layer.type, layer.bottom, layer.top]), [
    ['data', 'Input', [], ['data']], ['conv1', 'Convolution', ['data'], ['conv1']], ['ip', 'InnerProduct', [], []],
  ]);
  for (const [index, layer] of model.layers.entries()) {
    t.same(read.layers[index]!.blobs.map((blob) => blob.shape), layer.blobs.map((blob) => blob.shape));
    t.same(read.layers[index]!.blobs.map((blob) => [...blob.data]), layer.blobs.map((blob) => [...blob.data]));
  }
  t.ok(read.layers[1]!.blobs[0]!.data instanceof Float32Array);
  t.equal(read.layers[1]!.blobs[0]!.legacyShape, undefined);
});

t.test('caffemodel bytes are Caffe\'s encoding, field by field', async (t) => {
  const written = writeCaffemodel({
    name: 'n',
    layers: [{ name: 'ip', type: 'InnerProduct', blobs: [{ shape: [2], data: Float32Array.of(1.5, -2) }] }],
  });
  const blob = [...wire.packedFloats(5, [1.5, -2]), ...wire.delimited(7, wire.delimited(1, [2]))];
  const layer = [...wire.stringField(1, 'ip'), ...wire.stringField(2, 'InnerProduct'), ...wire.delimited(7, blob)];
  t.same([...written], [...wire.stringField(1, 'n'), ...wire.delimited(100, layer)]);
});

t.test('reads hand-built bytes: shape, packed and unpacked floats, unknown fields skipped', async (t) => {
  const weights = [
    ...wire.delimited(7, wire.delimited(1, [...wire.varint(2), ...wire.varint(3)])), // shape { dim: 2 dim: 3 } (packed)
    ...wire.packedFloats(5, [1, 2, 3]),
    ...wire.unpackedFloats(5, [4, 5, 6]), // the rest of the data unpacked
    ...wire.packedFloats(6, [9, 9, 9, 9, 9, 9]), // diff: ignored
  ];
  const bias = [...wire.delimited(7, [...wire.integerField(1, 3)]), ...wire.unpackedFloats(5, [0.5, 0.25, 0.125])];
  const layer = [
    ...wire.stringField(1, 'fc'), ...wire.stringField(2, 'InnerProduct'), ...wire.stringField(3, 'in'), ...wire.stringField(4, 'fc'),
    ...wire.integerField(10, 1), // phase: TEST
    ...wire.delimited(117, wire.integerField(1, 3)), // inner_product_param { num_output: 3 }
    ...wire.delimited(6, [...wire.tag(3, 5), ...wire.float(2)]), // param { lr_mult: 2 }
    ...wire.delimited(7, weights),
    ...wire.delimited(7, bias),
  ];
  const bytes = bytesOf([...wire.stringField(1, 'hand'), ...wire.delimited(100, wire.stringField(1, 'relu')), ...wire.delimited(100, layer)]);
  const model = readCaffemodel(bytes);
  t.equal(model.name, 'hand');
  t.same(model.layers.map((entry) => entry.name), ['relu', 'fc']);
  const [w, b] = model.layers[1]!.blobs;
  t.same(w!.shape, [2, 3]);
  t.same([...w!.data], [1, 2, 3, 4, 5, 6]);
  t.same(b!.shape, [3]);
  t.same([...b!.data], [0.5, 0.25, 0.125]);
  t.same(model.layers[1]!.bottom, ['in']);
});

t.test('reads legacy 4-D dims and double_data', async (t) => {
  const blob = [
    ...wire.integerField(1, 1), ...wire.integerField(2, 1), ...wire.integerField(3, 2), ...wire.integerField(4, 2),
    ...wire.packedDoubles(8, [0.1, 0.2, 0.3, 0.4]),
  ];
  const bytes = bytesOf(wire.delimited(100, [...wire.stringField(1, 'conv'), ...wire.stringField(2, 'Convolution'), ...wire.delimited(7, blob)]));
  const read = readCaffemodel(bytes).layers[0]!.blobs[0]!;
  t.same(read.shape, [1, 1, 2, 2]);
  t.equal(read.legacyShape, true);
  t.same([...read.data], [...Float32Array.of(0.1, 0.2, 0.3, 0.4)]);
});

t.test('reads V1 layers (field 2) with enum types, as in bvlc_alexnet.caffemodel', async (t) => {
  const blob = [...wire.integerField(1, 1), ...wire.integerField(2, 1), ...wire.integerField(3, 1), ...wire.integerField(4, 2), ...wire.packedFloats(5, [7, 8])];
  const conv = [
    ...wire.stringField(2, 'data'), ...wire.stringField(3, 'conv1'), ...wire.stringField(4, 'conv1'), ...wire.integerField(5, 4),
    ...wire.delimited(6, blob), ...wire.delimited(7, wire.float(1)), // blobs_lr (packed float), skipped
  ];
  const relu = [...wire.stringField(4, 'relu1'), ...wire.integerField(5, 18)];
  const loss = [...wire.stringField(4, 'loss'), ...wire.integerField(5, 21)];
  const v0 = [
    ...wire.delimited(1, [...wire.stringField(1, 'ip'), ...wire.stringField(2, 'innerproduct'), ...wire.delimited(50, [...wire.delimited(7, wire.delimited(1, [1])), ...wire.packedFloats(5, [3])])]),
  ];
  const bytes = bytesOf([
    ...wire.stringField(1, 'CaffeNet'),
    ...wire.delimited(2, conv), ...wire.delimited(2, relu), ...wire.delimited(2, loss), ...wire.delimited(2, v0),
  ]);
  const model = readCaffemodel(bytes);
  t.same(model.layers.map((layer) => [layer.name, layer.type]), [
    ['conv1', 'Convolution'], ['relu1', 'ReLU'], ['loss', 'SoftmaxWithLoss'], ['ip', 'InnerProduct'],
  ]);
  t.same(model.layers[0]!.blobs[0]!.shape, [1, 1, 1, 2]);
  t.same([...model.layers[0]!.blobs[0]!.data], [7, 8]);
  t.same(model.layers[0]!.bottom, ['data']);
  t.same([...model.layers[3]!.blobs[0]!.data], [3]);
});

t.test('solverstate round trip and encoding', async (t) => {
  const state = {
    iter: 10000, learnedNet: 'lenet_iter_10000.caffemodel', currentStep: 2,
    history: [{ shape: [20, 1, 5, 5], data: Float32Array.from({ length: 500 }, (_, index) => Math.sin(index)) }, { shape: [20], data: new Float32Array(20) }],
  };
  const read = readSolverstate(writeSolverstate(state));
  t.equal(read.iter, 10000);
  t.equal(read.learnedNet, 'lenet_iter_10000.caffemodel');
  t.equal(read.currentStep, 2);
  t.same(read.history.map((blob) => blob.shape), [[20, 1, 5, 5], [20]]);
  t.same([...read.history[0]!.data], [...state.history[0]!.data]);
  const handBuilt = bytesOf([
    ...wire.integerField(1, 5), ...wire.stringField(2, 'm.caffemodel'),
    ...wire.delimited(3, [...wire.packedFloats(5, [1]), ...wire.delimited(7, wire.delimited(1, [1]))]), ...wire.integerField(4, 0),
  ]);
  t.same([...writeSolverstate({ iter: 5, learnedNet: 'm.caffemodel', currentStep: 0, history: [{ shape: [1], data: Float32Array.of(1) }] })], [...handBuilt]);
});

t.test('binaryproto: legacy dims as Caffe and DIGITS write a mean image', async (t) => {
  const mean = { shape: [1, 3, 2, 2], data: Float32Array.from({ length: 12 }, (_, index) => 100 + index) };
  const bytes = writeBinaryproto(mean);
  t.same([...bytes], [
    ...wire.integerField(1, 1), ...wire.integerField(2, 3), ...wire.integerField(3, 2), ...wire.integerField(4, 2),
    ...wire.packedFloats(5, [...mean.data]),
  ]);
  const read = readBinaryproto(bytes);
  t.same(read.shape, [1, 3, 2, 2]);
  t.equal(read.legacyShape, true);
  t.same([...read.data], [...mean.data]);
  t.same(readBinaryproto(writeBinaryproto({ shape: [3, 2, 2], data: mean.data })).shape, [1, 3, 2, 2], '3-D is padded to 4-D');
  t.same(readBinaryproto(writeBinaryproto({ shape: [1, 1, 1, 1, 2], data: Float32Array.of(1, 2) })).shape, [1, 1, 1, 1, 2], '5-D uses shape');
});

t.test('writing a blob whose data does not match its shape is refused', async (t) => {
  t.throws(() => writeCaffemodel({ name: '', layers: [{ name: 'ip', type: 'InnerProduct', blobs: [{ shape: [2, 2], data: new Float32Array(3) }] }] }), {
    message: "Expected data of 4 values (shape [2, 2]) for blob 0 of layer 0 ('ip') but received 3 values",
    code: 'INVALID_ARGUMENT',
  });
});

t.test('corrupt bytes give a clear CaffeBinaryError', async (t) => {
  const good = writeCaffemodel(sampleModel());
  const check = (bytes: Uint8Array, message: string) => {
    const error = t.throws(() => readCaffemodel(bytes, { file: 'lenet.caffemodel' })) as CaffeBinaryError;
    t.ok(error instanceof CaffeBinaryError);
    t.equal(error.code, 'CAFFE_BINARY_CORRUPT');
    t.equal(error.file, 'lenet.caffemodel');
    t.equal(error.message, message);
  };
  check(good.subarray(0, good.length - 10),
    "lenet.caffemodel: not a valid caffemodel: layer 2 claims 3631 bytes but only 3621 remain (at byte 171)");
  check(new Uint8Array(0), 'lenet.caffemodel: not a valid caffemodel: the file is empty (at byte 0)');
  check(new TextEncoder().encode('name: "LeNet"\nlayer {\n'),
    "lenet.caffemodel: not a valid caffemodel: invalid wire type 6; this is not a protobuf-encoded caffemodel (the file looks like text: is it a .prototxt?) (at byte 1)");
  check(bytesOf([...wire.integerField(1, 3)]),
    "lenet.caffemodel: not a valid caffemodel: expected 'name' to be a length-delimited value but found a varint (at byte 1)");
  check(bytesOf(wire.delimited(100, [...wire.stringField(1, 'conv'), ...wire.delimited(7, [...wire.delimited(7, wire.delimited(1, [4])), ...wire.packedFloats(5, [1, 2, 3])])])),
    "lenet.caffemodel: not a valid caffemodel: the blob has shape [4] (4 values) but holds 3 values in layer 'conv', blob 0 (at byte 30)");
  check(bytesOf(wire.delimited(100, [...wire.stringField(1, 'conv'), ...wire.delimited(7, wire.delimited(5, [0, 0, 128]))])),
    "lenet.caffemodel: not a valid caffemodel: the packed 'data' floats take 3 bytes, not a multiple of 4 in layer 'conv', blob 0 (at byte 16)");
  check(bytesOf([...wire.delimited(100, wire.stringField(1, 'a')), ...wire.delimited(2, wire.stringField(4, 'b'))]),
    "lenet.caffemodel: not a valid caffemodel: the net holds both current 'layer' and V1 'layers' entries; Caffe refuses such a file too (at byte 11)");
  check(bytesOf([0x0a, 0x85]), 'lenet.caffemodel: not a valid caffemodel: the data ends in the middle of a field (at byte 2)');
});

t.test('corrupt solverstate and binaryproto', async (t) => {
  t.throws(() => readSolverstate(bytesOf([...wire.integerField(1, 5), ...wire.delimited(3, [0xff])]), { file: 'x.solverstate' }), {
    code: 'CAFFE_BINARY_CORRUPT', message: /^x\.solverstate: not a valid solverstate: .* in history blob 0 \(at byte \d+\)$/,
  });
  t.throws(() => readBinaryproto(bytesOf(wire.packedFloats(5, [1, 2])), { file: 'mean.binaryproto' }), {
    message: 'mean.binaryproto: not a valid binaryproto: the blob has shape [] (1 values) but holds 2 values (at byte 10)',
  });
});
