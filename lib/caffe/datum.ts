// Caffe's Datum message (one LMDB record of an image dataset): encode, decode, and a zero-copy reader for the hot path.
import { WireType } from './caffe-proto.js';
import { WireWriter } from './wire.js';

/*
 * The message as declared in BVLC Caffe 1.0, src/caffe/proto/caffe.proto (message Datum):
 *
 *   message Datum {
 *     optional int32 channels = 1;
 *     optional int32 height = 2;
 *     optional int32 width = 3;
 *     // the actual image data, in bytes
 *     optional bytes data = 4;
 *     optional int32 label = 5;
 *     // Optionally, the datum could also hold float data.
 *     repeated float float_data = 6;
 *     // If true data contains an encoded image that need to be decoded
 *     optional bool encoded = 7 [default = false];
 *   }
 *
 * Raw records hold `data` as C x H x W uint8 (colour channels in BGR order, as Caffe's
 * OpenCV-based tools and DIGITS write them). Encoded records hold a whole PNG or JPEG
 * file in `data` with `encoded = true`; the picture inside is ordinary RGB, and
 * channels/height/width describe the decoded image.
 */

/** Field numbers of message Datum (above). */
const DatumField = { channels: 1, height: 2, width: 3, data: 4, label: 5, floatData: 6, encoded: 7 } as const;

/** One image record. `data` is C*H*W uint8 (raw) or the bytes of a PNG/JPEG file (encoded). */
export interface Datum {
  channels: number;
  height: number;
  width: number;
  data: Uint8Array;
  label: number;
  floatData: number[];
  encoded: boolean;
}

/**
 * Serialises a Datum to Caffe's wire format. float_data (unpacked, as proto2 declares it) and
 * encoded are written only when used, as Caffe's tools do.
 */
export function encodeDatum(datum: Partial<Datum> & Pick<Datum, 'channels' | 'height' | 'width' | 'label'>): Uint8Array {
  const writer = new WireWriter();
  writer.integer(DatumField.channels, datum.channels).integer(DatumField.height, datum.height).integer(DatumField.width, datum.width);
  if (datum.data !== undefined) writer.tag(DatumField.data, WireType.LENGTH_DELIMITED).writer.bytes(datum.data);
  writer.integer(DatumField.label, datum.label);
  for (const value of datum.floatData ?? []) writer.tag(DatumField.floatData, WireType.FIXED32).writer.float(value);
  if (datum.encoded) writer.integer(DatumField.encoded, 1);
  return writer.finish();
}

/** Parses a Datum from Caffe's wire format (any field may be absent; defaults as in caffe.proto); `data` is copied. */
export function decodeDatum(bytes: Uint8Array): Datum {
  const floatData: number[] = [];
  const view = scanDatum(bytes, floatData);
  return { ...view, data: view.data.slice(), floatData };
}

/** The fields the Data layer needs, with `data` a view into the record's bytes (no copy). */
export interface DatumView {
  channels: number;
  height: number;
  width: number;
  label: number;
  encoded: boolean;
  data: Uint8Array;
}

/**
 * Reads a Datum without copying `data`: the batch source reads thousands of 200 KB records
 * per second, and a generic decoder would copy each one. Handles the wire types Datum uses
 * (varint 0, length-delimited 2, fixed32 5) and skips fixed64 (1) for unknown fields;
 * float_data is not needed by image records and is skipped.
 */
export function readDatumView(bytes: Uint8Array): DatumView {
  return scanDatum(bytes, undefined);
}

/** Walks the fields of a Datum; float_data values (packed or not) go to `floatData` when given. */
function scanDatum(bytes: Uint8Array, floatData: number[] | undefined): DatumView {
  const view: DatumView = { channels: 0, height: 0, width: 0, label: 0, encoded: false, data: bytes.subarray(0, 0) };
  let position = 0;
  // The low 32 bits of a varint, unsigned: lengths and tags fit, and an int32 is `| 0` of it
  // (a negative int32 arrives as a 10-byte two's-complement varint whose high bits are dropped).
  const readVarint = (): number => {
    let low = 0;
    for (let shift = 0; ; shift += 7) {
      if (position >= bytes.length) throw new Error('Truncated Datum record');
      const byte = bytes[position++]!;
      if (shift < 32) low |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return low >>> 0;
      if (shift >= 63) throw new Error('Malformed varint in Datum record');
    }
  };
  while (position < bytes.length) {
    const tag = readVarint();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === 0) {
      const value = readVarint();
      const int32 = value | 0;
      if (field === DatumField.channels) view.channels = int32;
      else if (field === DatumField.height) view.height = int32;
      else if (field === DatumField.width) view.width = int32;
      else if (field === DatumField.label) view.label = int32;
      else if (field === DatumField.encoded) view.encoded = value !== 0;
    } else if (wireType === 2) {
      const length = readVarint();
      if (position + length > bytes.length) throw new Error('Truncated Datum record');
      if (field === DatumField.data) view.data = bytes.subarray(position, position + length);
      else if (field === DatumField.floatData && floatData !== undefined) readFloats(bytes, position, length, floatData);
      position += length;
    } else if (wireType === 5) {
      if (position + 4 > bytes.length) throw new Error('Truncated Datum record');
      if (field === DatumField.floatData && floatData !== undefined) readFloats(bytes, position, 4, floatData);
      position += 4;
    } else if (wireType === 1) {
      position += 8;
    } else {
      throw new Error(`Unsupported wire type ${wireType} in Datum record`);
    }
  }
  return view;
}

/** Appends `length / 4` little-endian float32 values starting at `position`. */
function readFloats(bytes: Uint8Array, position: number, length: number, into: number[]): void {
  if (length % 4 !== 0) throw new Error(`Packed float_data of ${length} bytes is not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, length);
  for (let offset = 0; offset < length; offset += 4) into.push(view.getFloat32(offset, true));
}
