// Caffe wire formats of lib/data: Datum bytes against hand-encoded protobuf, BlobProto round trip, record keys.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { writeBinaryproto } from '../../lib/caffe/binary.js';
import { decodeDatum, encodeDatum, readDatumView } from '../../lib/caffe/datum.js';
import { readMeanBinaryproto, writeMeanBinaryproto } from '../../lib/data/mean.js';
import { recordKey, toPlanarBgr } from '../../lib/data/records.js';
import { tempFolder } from './helpers.js';

t.test('Datum encodes fields 1-5 as caffe.proto numbers them', async (t) => {
  const bytes = encodeDatum({ channels: 1, height: 2, width: 3, data: Uint8Array.of(1, 2, 3, 4, 5, 6), label: 5 });
  // tag = field << 3 | wire type: 0x08 channels, 0x10 height, 0x18 width, 0x22 data (bytes), 0x28 label.
  t.same(Array.from(bytes), [0x08, 1, 0x10, 2, 0x18, 3, 0x22, 6, 1, 2, 3, 4, 5, 6, 0x28, 5]);
  const encoded = encodeDatum({ channels: 3, height: 1, width: 1, data: Uint8Array.of(9), label: 0, encoded: true });
  t.same(Array.from(encoded.subarray(-2)), [0x38, 1], 'encoded = field 7, varint true');
});

t.test('decodeDatum and readDatumView agree on every field', async (t) => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
  const bytes = encodeDatum({ channels: 3, height: 10, width: 10, data, label: 1234 });
  const full = decodeDatum(bytes);
  const view = readDatumView(bytes);
  t.same([full.channels, full.height, full.width, full.label, full.encoded], [3, 10, 10, 1234, false]);
  t.same([view.channels, view.height, view.width, view.label, view.encoded], [3, 10, 10, 1234, false]);
  t.same(Array.from(view.data), Array.from(data));
  t.equal(view.data.buffer, bytes.buffer, 'readDatumView does not copy');
  const floats = decodeDatum(encodeDatum({ channels: 1, height: 1, width: 2, label: 0, floatData: [1.5, -2] }));
  t.same(floats.floatData, [1.5, -2]);
  t.throws(() => readDatumView(bytes.subarray(0, 20)), /Truncated/);
});

t.test('BlobProto mean round trip, with legacy num/channels/height/width', async (t) => {
  const folder = tempFolder(t);
  const file = path.join(folder, 'mean.binaryproto');
  const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 0.5);
  await writeMeanBinaryproto(file, { channels: 2, height: 3, width: 4, data });
  const back = await readMeanBinaryproto(file);
  t.same([back.channels, back.height, back.width], [2, 3, 4]);
  t.same(Array.from(back.data), Array.from(data));
  // num = 1 is field 1 (varint); data is field 5 packed (wire type 2 -> tag 0x2a) with 24 floats = 96 bytes.
  const hex = readFileSync(file).toString('hex');
  t.ok(hex.startsWith('0801100218032004'), 'num = 1, channels = 2, height = 3, width = 4');
  t.ok(hex.includes('2a60'), 'packed data, 96 bytes');
  writeFileSync(file, writeBinaryproto({ shape: [2, 1, 1, 1], data: Float32Array.of(1, 2) }));
  await t.rejects(readMeanBinaryproto(file), /one C x H x W image/);
  writeFileSync(file, 'name: "not a blob"\n');
  await t.rejects(readMeanBinaryproto(file), { code: 'CAFFE_BINARY_CORRUPT' });
});

t.test('Datum: negative int32, unpacked and packed float_data, unknown fields skipped', async (t) => {
  const bytes = encodeDatum({ channels: 1, height: 1, width: 3, label: -1, floatData: [0.25, 3, -7.5] });
  // float_data is not [packed = true] in caffe.proto: one fixed32 field (tag 0x35) per value.
  t.equal(Array.from(bytes).filter((byte) => byte === 0x35).length, 3);
  t.same(decodeDatum(bytes).label, -1);
  t.same(decodeDatum(bytes).floatData, [0.25, 3, -7.5]);
  // A packed float_data (tag 0x32, 8 bytes) and an unknown fixed64 field 9 (tag 0x49).
  const packed = Uint8Array.of(0x08, 1, 0x32, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 0x28, 4);
  const datum = decodeDatum(packed);
  t.same([datum.channels, datum.label, datum.floatData], [1, 4, [1, 2]]);
});

t.test('record keys and BGR planar layout', async (t) => {
  t.equal(recordKey(7, 3).toString(), '00000007_3');
  t.equal(recordKey(12345678, 10).toString(), '12345678_10');
  // Two RGB pixels: (1,2,3) and (4,5,6) -> planes B = [3,6], G = [2,5], R = [1,4].
  t.same(Array.from(toPlanarBgr({ pixels: Uint8Array.of(1, 2, 3, 4, 5, 6), width: 2, height: 1, channels: 3 })), [3, 6, 2, 5, 1, 4]);
});
